#!/usr/bin/perl
# 40-exim.t - the shipped Exim ACL snippets (examples/exim/) in the real
# Exim (exim -C FILE -bh IP: an SMTP dialogue on stdin, ACLs run, nothing
# delivered) against a running savd and the DNS/SMTP fixtures.  Checks the
# SMTP replies Exim gives: 250 for a good sender, 550 with the remote's
# text for a rejected one, 451 for greylisting, the null sender, recipient
# call-forward through `routes`, and what happens when savd is out of
# reach (socket missing, socket not permitted, no answer in time) with the
# fail-open and the fail-closed choice.  And the proof that matters
# most (PROTOCOL.md 3b): a sender whose MX blocks us (554 5.7.1 ... blocked
# using zen.spamhaus.org) is accepted, one whose MX says 550 5.1.1 user
# unknown is rejected.
#
# As root, Exim runs the ACLs as its own user (Debian-exim), so the socket
# is set up as in production (mode 0660, socket_group Debian-exim); the
# test then also runs Exim as "nobody", who must be refused until the
# socket is opened to everybody.  As an ordinary user, Exim runs as that
# user and the root-only parts are skipped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my ($exim) = grep { -x } qw(/usr/sbin/exim4 /usr/sbin/exim);
plan skip_all => 'Exim is not installed (/usr/sbin/exim4 or /usr/sbin/exim;'
    . ' Debian: apt-get install exim4-daemon-heavy)' unless $exim;
BAIL_OUT(savd_bin() . ' is not built') unless -x savd_bin();

my $root = $> == 0;
my $EXAMPLES = "$FindBin::Bin/../examples/exim";
my @SNIPPETS = qw(savd-macros.conf savd-sender-acl.conf
    savd-recipient-acl.conf);

my $dns = start_dns(<<'EOF');
good.test       MX 10 mx.good.test
mx.good.test    A  127.0.0.2
nullmx.test     MX 0 .
blocked.test    MX 10 mx.blocked.test
mx.blocked.test A  127.0.0.6
nouser.test     MX 10 mx.nouser.test
mx.nouser.test  A  127.0.0.7
EOF
my $smtp = start_smtp(listen => ['127.0.0.2', '127.0.0.4']);

# Two more mail hosts on the fixture's port (savd has one smtp_port), with
# replies the fixture has no profile for: 127.0.0.6 answers every RCPT
# with Spamhaus' wording as Postfix gives it (the MX blocks us, it says
# nothing about the address), 127.0.0.7 with a plain user unknown.
my %RCPT_REPLY = (
	'127.0.0.6' => '554 5.7.1 Service unavailable; Client host'
	    . ' [127.0.0.1] blocked using zen.spamhaus.org',
	'127.0.0.7' => '550 5.1.1 <%s>: user unknown',
);
my $replier = start_replier($smtp->port, \%RCPT_REPLY);

# The production socket set-up as root; our own socket otherwise (or, as
# root without Debian's Exim user, a socket open to everybody).
my $exim_group = getgrnam('Debian-exim') ? 'Debian-exim' : undef;
my %sockconf = !$root ? (socket_mode => '0600')
    : $exim_group ? (socket_mode => '0660', socket_group => $exim_group)
    : (socket_mode => '0666');
my $d = start_savd(dns => $dns, smtp => $smtp, conf => {
	%sockconf,
	routes => 'relay.test=[127.0.0.4], blockedrelay.test=[127.0.0.6]',
});
my $dir = $d->dir;
chmod(0711, $dir);      # Exim's user must reach the socket and its config

# The shipped snippets, copied byte for byte beside the test configs so
# that any user can read them.
for my $f (@SNIPPETS) {
	copy("$EXAMPLES/$f", "$dir/$f") or die "copy $f: $!";
	chmod(0644, "$dir/$f");
}
is(slurp("$dir/$_"), slurp("$EXAMPLES/$_"), "$_ is used as shipped")
    for @SNIPPETS;
for my $sub (qw(spool log)) {
	mkdir("$dir/$sub");
	chmod(0777, "$dir/$sub");
}

# A minimal Exim configuration around the shipped snippets.  %m are macro
# lines put before the .include of savd-macros.conf.
my $nconf = 0;
sub exim_conf {
	my (%m) = @_;
	my $in_rcpt = delete $m{in_rcpt};      # sender check in the RCPT ACL
	my ($mail, $rcpt) = ('', '');
	${ $in_rcpt ? \$rcpt : \$mail } = ".include $dir/savd-sender-acl.conf\n";
	$m{SAVD_SOCKET} //= $d->sock;
	my $f = "$dir/exim" . ++$nconf . '.conf';
	open(my $fh, '>', $f) or die "$f: $!";
	print $fh map({ "$_ = $m{$_}\n" } sort keys %m), <<"EOF";
.include $dir/savd-macros.conf
primary_hostname = exim.test
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
domainlist local_domains = exim.test
domainlist relay_to_domains = relay.test : blockedrelay.test
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt

begin acl

acl_check_mail:
${mail}  accept

acl_check_rcpt:
${rcpt}.include $dir/savd-recipient-acl.conf
  accept  domains = +local_domains : +relay_to_domains
  deny    message = relay not permitted
EOF
	close($fh) or die "$f: $!";
	chmod(0644, $f);
	return $f;
}

# Run one SMTP dialogue through exim -bh; returns the final reply line of
# each command (the greeting first) and Exim's stderr (the ACL trace and
# the LOG: lines).  With $user, Exim runs under that uid (root only).
my $nsession = 0;
sub exim_bh {
	my ($conf, $cmds, $user) = @_;
	my $in = "$dir/session" . ++$nsession;
	open(my $fh, '>', $in) or die "$in: $!";
	print $fh map { "$_\r\n" } 'HELO client.test', @$cmds, 'QUIT';
	close($fh);
	open($fh, '>', "$in.err") or die "$in.err: $!";
	close($fh);
	chmod(0644, $in);
	chmod(0666, "$in.err");         # written by Exim's user
	my $cmd = "exec $exim -C $conf -bh 192.0.2.1 <$in 2>$in.err";
	my $out;
	if ($user) {
		$out = as_user($user, sub { scalar `$cmd` }, 30);
	} else {
		$out = run_cmd(['sh', '-c', $cmd], timeout => 30)->{out};
	}
	my @r = grep { /^\d{3} / } split(/\r?\n/, $out // '');
	return (\@r, slurp("$in.err"));
}

# Replies to each MAIL FROM of @senders (RSET between them).
sub mail_replies {
	my ($conf, $user, @senders) = @_;
	my ($r, $err) = exim_bh($conf, [map { ("MAIL FROM:<$_>", 'RSET') }
	    @senders], $user);
	my %by;
	@by{@senders} = map { $r->[2 + 2 * $_] // '(none)' } 0 .. $#senders;
	return (\%by, $err);
}

my $open = exim_conf();
my $closed = exim_conf(SAVD_FAIL_CLOSED => 'yes');
my $missing_open = exim_conf(SAVD_SOCKET => "$dir/missing.sock");
my $missing_closed = exim_conf(SAVD_SOCKET => "$dir/missing.sock",
    SAVD_FAIL_CLOSED => 'yes');

my ($t0, $r, $err, $by) = (time);

# --- sender verification, as the Exim of this host would run it
($r, $err) = exim_bh($open, []);
like($r->[0], qr/^220 exim\.test /, 'Exim starts with the test config')
    or diag($err);
($by, $err) = mail_replies($open, undef, 'alice@good.test',
    'unknown1@good.test', 'grey1@good.test', 'x@nullmx.test', '',
    'r553a@good.test', 'r450a@good.test');
like($by->{'alice@good.test'}, qr/^250 /, 'existing sender: 250');
is($by->{'unknown1@good.test'}, '550 5.1.1 <unknown1@good.test>: Recipient'
    . ' address rejected: User unknown',
    'rejected sender: 550 with the remote\'s enhanced code and text');
is($by->{'grey1@good.test'}, '451 4.7.1 Greylisted, try again later',
    'greylisted sender: 451 with the remote\'s text');
like($by->{'x@nullmx.test'}, qr/^550 .*null MX/,
    'sender at a null-MX domain: 550 with savd\'s text');
like($by->{''}, qr/^250 /, 'null sender: 250');
is($by->{'r553a@good.test'}, '553 5.0.0 Scripted reply 553',
    'the remote\'s own 5xx code is passed through (553)');
is($by->{'r450a@good.test'}, '450 4.0.0 Scripted reply 450',
    'the remote\'s own 4xx code is passed through (450)');
like($err, qr/rejected MAIL <unknown1\@good\.test>: sender verify failed/,
    'the rejection is logged with savd\'s answer');
unlike($err, qr/savd unreachable|no usable answer/,
    'savd was reachable for every sender');

my $before = $d->stats->{requests};
($by) = mail_replies($open, undef, '');
like($by->{''}, qr/^250 /, 'null sender again: 250');
is($d->stats->{requests}, $before + 1,
    'the null sender is not sent to savd (only the STATS request counted)');

# --- recipient call-forward for a relay domain through routes
($r, $err) = exim_bh($open, ['MAIL FROM:<alice@good.test>',
    'RCPT TO:<bob@relay.test>', 'RCPT TO:<unknown7@relay.test>',
    'RCPT TO:<grey7@relay.test>', 'RCPT TO:<"un known"@relay.test>',
    'RCPT TO:<nobody@exim.test>']);
like($r->[2], qr/^250 /, 'MAIL accepted before the RCPTs');
like($r->[3], qr/^250 /, 'existing relay recipient: 250');
is($r->[4], '550 5.1.1 <unknown7@relay.test>: Recipient address rejected:'
    . ' User unknown', 'unknown relay recipient: 550 with the server\'s text');
is($r->[5], '451 4.7.1 Greylisted, try again later',
    'greylisted relay recipient: 451');
is($r->[6], '550 5.1.1 <"un known"@relay.test>: Recipient address'
    . ' rejected: User unknown',
    'quoted local part: quoted for savd, text unescaped by Exim');
like($r->[7], qr/^250 /, 'a local domain is not called forward');
is(scalar(grep { /C: RCPT TO:<unknown7\@relay\.test>/ }
    split(/\n/, $smtp->log_text)), 1,
    'the call-forward reached the routed host');
ok(scalar(grep { $_->{local} eq '127.0.0.4' } @{ $smtp->sessions }),
    'routes sent the callout to 127.0.0.4');

# --- the sender check in the RCPT ACL instead
($r) = exim_bh(exim_conf(in_rcpt => 1), ['MAIL FROM:<unknown5@good.test>',
    'RCPT TO:<bob@relay.test>', 'RSET', 'MAIL FROM:<alice@good.test>',
    'RCPT TO:<bob@relay.test>']);
like($r->[2], qr/^250 /, 'sender check in the RCPT ACL: MAIL accepted');
like($r->[3], qr/^550 5\.1\.1 <unknown5\@good\.test>:/,
    '... the RCPT gets the 550 for the sender');
like($r->[6], qr/^250 /, '... and a good sender\'s RCPT 250');

# --- a sender whose MX blocks us is accepted; one whose MX says the user
# is unknown is rejected (PROTOCOL.md 3b: only what speaks about the
# address may become fail).  Fail open and fail closed alike: "unknown"
# is an answer, not savd being down.
for my $c ([$open, 'fail open'], [$closed, 'fail closed']) {
	($by, $err) = mail_replies($c->[0], undef, 'someone@blocked.test',
	    'someone@nouser.test');
	like($by->{'someone@blocked.test'}, qr/^250 /, "$c->[1]: a sender whose"
	    . ' MX blocks us (554 5.7.1 ... blocked using zen.spamhaus.org)'
	    . ' is ACCEPTED')
	    or diag("Exim answered: $by->{'someone\@blocked.test'}");
	is($by->{'someone@nouser.test'},
	    '550 5.1.1 <someone@nouser.test>: user unknown',
	    "$c->[1]: a sender whose MX says 550 5.1.1 user unknown is"
	    . ' rejected with that reply');
	unlike($err, qr/rejected MAIL <someone\@blocked\.test>/,
	    "$c->[1]: ... and no rejection is logged for the blocked one");
}
my $ans = $d->query('SENDER <someone@blocked.test>');
diag("savd: SENDER <someone\@blocked.test> -> " . ($ans // '(none)'));
fields_ok('savd\'s own answer for the sender whose MX blocks us: unknown'
    . ' blocked, code 554', $ans, result => 'unknown', reason => 'blocked',
    code => 554, text => qr/blocked using zen\.spamhaus\.org/);
ok((grep { /^RCPT TO:<someone\@blocked\.test>$/ } replier_commands($replier,
    '127.0.0.6')), '... the callout reached the MX that blocks us');
($r, $err) = exim_bh($open, ['MAIL FROM:<alice@good.test>',
    'RCPT TO:<bob@blockedrelay.test>']);
like($r->[3], qr/^250 /, 'call-forward to a relay host that blocks us:'
    . ' the recipient is accepted')
    or diag("Exim answered: $r->[3]");

# --- savd out of reach
($by, $err) = mail_replies($missing_open, undef, 'unknown2@good.test');
like($by->{'unknown2@good.test'}, qr/^250 /,
    'socket missing, fail open: accepted');
like($err, qr/not verified \(savd unreachable\): unknown/,
    '... and logged as savd unreachable');
($by, $err) = mail_replies($missing_closed, undef, 'alice@good.test');
is($by->{'alice@good.test'}, '451 4.3.0 Address verification is'
    . ' unavailable, try again later', 'socket missing, fail closed: 451');
($r) = exim_bh($missing_closed, ['MAIL FROM:<>',
    'RCPT TO:<bob@relay.test>']);
like($r->[2], qr/^250 /, 'fail closed: the null sender is still accepted');
like($r->[3], qr/^451 4\.3\.0 /, 'fail closed: call-forward deferred');

# A socket that accepts and never answers: Exim's timeout (with its unit)
# fires and the fail string applies.
my $mute = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => "$dir/mute.sock",
    Listen => 5) or die "mute.sock: $!";
chmod(0666, "$dir/mute.sock");
my $mute_closed = exim_conf(SAVD_SOCKET => "$dir/mute.sock",
    SAVD_READ_TIMEOUT => '2s', SAVD_FAIL_CLOSED => 'yes');
my $t = time;
($by) = mail_replies($mute_closed, undef, 'alice@good.test');
my $took = time - $t;
like($by->{'alice@good.test'}, qr/^451 4\.3\.0 /,
    'no answer within SAVD_READ_TIMEOUT, fail closed: 451');
ok($took >= 1.5 && $took < 10, sprintf('... after the 2s timeout (%.1fs)',
    $took));
close($mute);

# --- as an ordinary user: the socket permissions as Exim meets them
SKIP: {
	skip 'not root: cannot run Exim as another user', 8 unless $root;
	skip 'no Debian-exim group', 8 unless $exim_group;
	# Exim run by root drops to its own user for -C: without the group
	# the socket is out of its reach.
	chmod(0600, $d->sock) or die "chmod: $!";
	($by, $err) = mail_replies($open, undef, 'unknown3@good.test');
	like($by->{'unknown3@good.test'}, qr/^250 /,
	    'root-only socket (0600): Exim\'s user is refused, fail open');
	like($err, qr/savd unreachable/, '... logged as savd unreachable');
	chmod(0660, $d->sock) or die "chmod: $!";
	($by, $err) = mail_replies($open, 'nobody', 'unknown3@good.test');
	like($by->{'unknown3@good.test'}, qr/^250 /,
	    'nobody, socket 0660 group Debian-exim: refused, fail open accepts');
	like($err, qr/savd unreachable/, '... logged as savd unreachable');
	($by) = mail_replies($closed, 'nobody', 'alice@good.test');
	like($by->{'alice@good.test'}, qr/^451 4\.3\.0 /,
	    'nobody, socket not permitted, fail closed: 451');
	chmod(0666, $d->sock) or die "chmod: $!";
	($by, $err) = mail_replies($open, 'nobody', 'unknown3@good.test',
	    'alice@good.test', 'grey3@good.test');
	like($by->{'unknown3@good.test'}, qr/^550 5\.1\.1 <unknown3\@good\.test>:/,
	    'nobody, socket 0666: 550 with the remote\'s text');
	like($by->{'alice@good.test'}, qr/^250 /, 'nobody, socket 0666: 250');
	like($by->{'grey3@good.test'}, qr/^451 4\.7\.1 Greylisted/,
	    'nobody, socket 0666: 451');
}

note(sprintf('Exim checks took %.1fs', time - $t0));
done_testing();

# A minimal SMTP server on $port of each address in %$reply (a child of
# this test, killed at exit like the fixtures, and gone when the test is):
# 220, EHLO/HELO 250 (no PIPELINING), MAIL 250, RCPT the address's reply
# (%s is the address), QUIT 221.  One connection at a time; every line is
# logged as "IP C: ..." / "IP S: ...".
sub start_replier {
	my ($port, $reply) = @_;
	my $log = "$dir/replier.log";
	my @ls = map { IO::Socket::INET->new(LocalAddr => $_, LocalPort => $port,
	    Listen => 16, ReuseAddr => 1) or die "replier $_:$port: $!" }
	    sort keys %$reply;
	my $parent = $$;
	my $pid = fork() // die "fork: $!";
	if ($pid) {
		$Savd::CHILDREN{$pid} = 'replier';
		close($_) for @ls;
		return { pid => $pid, log => $log };
	}
	$SIG{TERM} = sub { POSIX::_exit(0) };
	open(my $lf, '>>', $log) or POSIX::_exit(1);
	$lf->autoflush(1);
	my $sel = IO::Select->new(@ls);
	while (getppid() == $parent) {
		for my $l ($sel->can_read(0.25)) {
			my $c = $l->accept or next;
			$c->autoflush(1);
			my $ip = $c->sockhost;
			print $lf "CONNECT $ip\n";
			my $say = sub {
				print $c "$_[0]\r\n";
				print $lf "$ip S: $_[0]\n";
			};
			$say->('220 mx.test ESMTP');
			my $cs = IO::Select->new($c);
			while ($cs->can_read(5)) {
				my $line = <$c>;
				last unless defined $line;
				$line =~ s/\r?\n\z//;
				print $lf "$ip C: $line\n";
				if ($line =~ /^(EHLO|HELO)\b/i) {
					$say->('250-mx.test');
					$say->('250 ENHANCEDSTATUSCODES');
				} elsif ($line =~ /^MAIL\b/i) {
					$say->('250 2.1.0 Ok');
				} elsif ($line =~ /^RCPT TO:\s*<([^>]*)>/i) {
					$say->(sprintf($reply->{$ip}, $1));
				} elsif ($line =~ /^QUIT\b/i) {
					$say->('221 2.0.0 Bye');
					last;
				} else {
					$say->('250 2.0.0 Ok');
				}
			}
			close($c);
		}
	}
	POSIX::_exit(0);
}

sub replier_commands {
	my ($rp, $ip) = @_;
	return map { /^\Q$ip\E C: (.*)$/ ? $1 : () }
	    split(/\n/, slurp($rp->{log}));
}
