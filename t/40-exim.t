#!/usr/bin/perl
# 40-exim.t - the shipped Exim integration (examples/exim/, doc/exim.md) in
# the real Exim (exim -C FILE -bh IP: an SMTP dialogue on stdin, ACLs run,
# nothing delivered).
#
# 1. Every answer savd can give, against every macro setting: a scripted
#    savd (a socket that answers canned lines by local part) behind the
#    shipped snippets, the replies Exim gives collected in one table
#    (printed with note(), see doc/exim.md): our own codes and words (550
#    5.1.0/5.1.1 for fail, 451 4.x.x for defer), the remote's reply quoted,
#    never a remote's 421/530 as our code, never an internal address, never
#    savd's internal words; SAVD_MODE, SAVD_DEFER, SAVD_TEMPFAIL,
#    SAVD_FAIL_CLOSED, SAVD_NO_CACHE; exemptions, postmaster and abuse;
#    savd down and savd hung (the snippet gives up after SAVD_READ_TIMEOUT
#    and the mail goes on); the X-Savd-Verify: header and the log lines.
# 2. The real savd against the DNS/SMTP fixtures: good, rejected and
#    greylisted senders, the null sender, call-forward through `routes`,
#    a stopped call-forward backend, a sender whose MX blocks us (accepted:
#    it says nothing about the address), socket permissions as Exim's user.
# 3. Debian's split configuration with the snippets dropped in exactly as
#    doc/exim.md says: update-exim4.conf generates it, exim -bV accepts it,
#    and exim -bh runs it against savd (root only).
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
    savd-recipient-acl.conf savd-check-rcpt.conf);

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
	routes => 'relay.test=[127.0.0.4], blockedrelay.test=[127.0.0.6],'
	    . ' deadrelay.test=[127.0.0.9]',
	connect_timeout => '2s',
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
# Debian's exemption files, where SAVD_ETC points.
mkdir("$dir/etc");
chmod(0755, "$dir/etc");
Savd::spit("$dir/etc/host_local_deny_exceptions", "192.0.2.50\n");
Savd::spit("$dir/etc/sender_local_deny_exceptions", "*\@exempt.test\n");
chmod(0644, "$dir/etc/$_") for qw(host_local_deny_exceptions
    sender_local_deny_exceptions);

# An Exim configuration shaped like Debian's RCPT ACL around the shipped
# snippets: the accepts for postmaster, relay hosts and authenticated
# clients, the relay check, then savd-check-rcpt.conf where Debian's
# CHECK_RCPT_LOCAL_ACL_FILE goes.  %m are macro lines put before the
# .include of savd-macros.conf.  The DATA ACL logs the X-Savd-Verify:
# headers.
my $nconf = 0;
sub exim_conf {
	my (%m) = @_;
	$m{SAVD_SOCKET} //= $d->sock;
	$m{SAVD_DIR} = $dir;
	$m{SAVD_ETC} = "$dir/etc";
	my $f = "$dir/exim" . ++$nconf . '.conf';
	open(my $fh, '>', $f) or die "$f: $!";
	print $fh map({ defined $m{$_} ? "$_ = $m{$_}\n" : () } sort keys %m),
	    <<"EOF";
.include $dir/savd-macros.conf
primary_hostname = exim.test
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
domainlist local_domains = exim.test
domainlist relay_to_domains = relay.test : blockedrelay.test : deadrelay.test
hostlist relay_from_hosts = 192.0.2.99
smtp_accept_max_nonmail_hosts =
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data

begin acl

acl_check_rcpt:
  accept  local_parts = postmaster
          domains     = +local_domains : +relay_to_domains
  accept  hosts       = +relay_from_hosts
  accept  authenticated = *
  require message     = relay not permitted
          domains     = +local_domains : +relay_to_domains
.include $dir/savd-check-rcpt.conf
  accept

acl_check_data:
  warn    logwrite    = HEADERS: \${sg{\$h_X-Savd-Verify:}{\\n}{ | }}
  accept
EOF
	close($fh) or die "$f: $!";
	chmod(0644, $f);
	return $f;
}

# Run one SMTP dialogue through exim -bh; returns the reply of each
# command (the greeting first; a multi-line reply joined into one line,
# its repeated codes dropped) and Exim's stderr (the ACL trace and the
# LOG: lines).  With $user, Exim runs under that uid (root only).
my $nsession = 0;
sub exim_bh {
	my ($conf, $cmds, $user, $ip) = @_;
	$ip //= '192.0.2.1';
	my $in = "$dir/session" . ++$nsession;
	open(my $fh, '>', $in) or die "$in: $!";
	print $fh map { "$_\r\n" } 'HELO client.test', @$cmds, 'QUIT';
	close($fh);
	open($fh, '>', "$in.err") or die "$in.err: $!";
	close($fh);
	chmod(0644, $in);
	chmod(0666, "$in.err");         # written by Exim's user
	my $cmd = "exec $exim -C $conf -bh $ip <$in 2>$in.err";
	my $out;
	if ($user) {
		$out = as_user($user, sub { scalar `$cmd` }, 60);
	} else {
		$out = run_cmd(['sh', '-c', $cmd], timeout => 60)->{out};
	}
	my (@r, $cont);
	for (split(/\r?\n/, $out // '')) {
		if (/^(\d{3})-(?:([245]\.\d{1,3}\.\d{1,3}) )?(.*)$/) {
			$cont = defined $cont ? "$cont $3"
			    : "$1 " . (defined $2 ? "$2 " : '') . $3;
		} elsif (/^(\d{3}) (?:([245]\.\d{1,3}\.\d{1,3}) )?(.*)$/) {
			push @r, defined $cont ? "$cont $3" : $_;
			undef $cont;
		}
	}
	return (\@r, slurp("$in.err"));
}

# Replies to RCPT TO:<$rcpt> after each MAIL FROM of @senders (RSET
# between them).
sub sender_replies {
	my ($conf, $user, $rcpt, @senders) = @_;
	my ($r, $err) = exim_bh($conf, [map { ("MAIL FROM:<$_>",
	    "RCPT TO:<$rcpt>", 'RSET') } @senders], $user);
	my %by;
	@by{@senders} = map { $r->[3 + 3 * $_] // '(none)' } 0 .. $#senders;
	return (\%by, $err);
}

my $t0 = time;
my ($r, $err, $by);

# ------------------------------------------------------------------
# 1. A scripted savd: every answer, every macro setting.

# One canned answer line per local part (the format of doc/protocol.md,
# with internal hosts and our own address in the texts, which must never
# reach the client).
my %ANSWER = (
	ok => 'result=ok reason=accepted code=250 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="2.1.5 Ok"',
	rejected => 'result=fail reason=rejected code=550 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="5.1.1 <rejected@example.net>:'
	    . ' Recipient address rejected: User unknown"',
	nullmx => 'result=fail reason=nullmx code=550 source=dns mx=-'
	    . ' text="example.net publishes a null MX: it accepts no mail"',
	greylisted => 'result=defer reason=tempfail code=451 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="4.7.1 Greylisted, try again later"',
	toomany => 'result=defer reason=tempfail code=421 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="4.7.0 too many connections'
	    . ' from 10.1.2.3"',
	unreachable => 'result=defer reason=unreachable code=451 source=callout'
	    . ' text="relay.internal[10.0.0.5]: Connection refused"',
	timeout => 'result=defer reason=timeout code=451 source=callout'
	    . ' mx=relay.internal[10.0.0.5] text="relay.internal[10.0.0.5]: timed out"',
	dnsfail => 'result=defer reason=dnsfail code=451 source=dns'
	    . ' text="DNS lookup failed (SERVFAIL from 10.0.0.53)"',
	inprogress => 'result=defer reason=inprogress code=451 source=policy'
	    . ' text="verification in progress"',
	ratelimited => 'result=defer reason=ratelimited code=451 source=policy'
	    . ' text="ratelimited: domain_rate 20/1m"',
	overloaded => 'result=defer reason=overloaded code=451 source=policy'
	    . ' text="overloaded: max_callouts 1000"',
	policy => 'result=defer reason=unreachable code=451 source=policy'
	    . ' text="route [10.0.0.5] not in allow_networks"',
	blocked => 'result=unknown reason=blocked code=530 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="5.7.0 Must issue a STARTTLS command first"',
	catchall => 'result=unknown reason=catchall code=250 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="2.1.5 Ok"',
	mailboxfull => 'result=unknown reason=mailboxfull code=552 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="5.2.2 Mailbox full"',
	smtputf8 => 'result=unknown reason=smtputf8 code=250 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="SMTPUTF8 not offered"',
	skipped => 'result=unknown reason=skipped code=250 source=policy'
	    . ' text="domain is on skip_domains"',
	error => 'result=error reason=badrequest code=500 text="unknown option"',
	closed => '',           # closes without an answer
	hung => undef,          # accepts, reads, never answers
);
my @ROWS = (qw(ok rejected nullmx greylisted toomany unreachable timeout
    dnsfail inprogress ratelimited overloaded policy blocked catchall
    mailboxfull smtputf8 skipped error closed hung), 'down');
my %CLASS = (rejected => 'fail', nullmx => 'fail', greylisted => 'tempfail',
    toomany => 'tempfail', map({ $_ => 'own' } qw(unreachable timeout dnsfail
    inprogress ratelimited overloaded policy)), map({ $_ => 'down' } qw(error
    closed hung down)));

my $fake = start_fake_savd("$dir/fake.sock", \%ANSWER);
my @COLS = (
	['SAVD_MODE=warn (default)', {}],
	['SAVD_MODE=enforce', { SAVD_MODE => 'enforce' }],
	['enforce, SAVD_DEFER=defer', { SAVD_MODE => 'enforce',
	    SAVD_DEFER => 'defer' }],
	['enforce, SAVD_TEMPFAIL=accept', { SAVD_MODE => 'enforce',
	    SAVD_TEMPFAIL => 'accept' }],
	['enforce, SAVD_FAIL_CLOSED', { SAVD_MODE => 'enforce',
	    SAVD_FAIL_CLOSED => 'yes' }],
	['warn, SAVD_FAIL_CLOSED', { SAVD_FAIL_CLOSED => 'yes' }],
);

# What the snippets must do: reject, defer or accept.
sub expect_action {
	my ($row, $m) = @_;
	my $c = $CLASS{$row} // 'pass';
	my $a = $c eq 'fail' ? 'reject'
	    : $c eq 'tempfail' ? (($m->{SAVD_TEMPFAIL} // '') eq 'accept'
		? 'accept' : 'defer')
	    : $c eq 'own' ? (($m->{SAVD_DEFER} // '') eq 'defer' ? 'defer'
		: 'accept')
	    : $c eq 'down' ? ($m->{SAVD_FAIL_CLOSED} ? 'defer' : 'accept')
	    : 'accept';
	$a = 'accept' unless ($m->{SAVD_MODE} // '') eq 'enforce';
	return $a;
}
my %CODE = (reject => 550, defer => 451, accept => 250);

my (%table, %errs);
for my $col (@COLS) {
	my ($name, $m) = @$col;
	my %mm = (%$m, SAVD_READ_TIMEOUT => '2s', SAVD_ANSWER_WITHIN => 1);
	my $conf = exim_conf(%mm, SAVD_SOCKET => "$dir/fake.sock");
	my $down = exim_conf(%mm, SAVD_SOCKET => "$dir/missing.sock");
	my @rows = grep { $_ ne 'down' } @ROWS;
	# sender: MAIL FROM:<row@example.net>, RCPT TO a local user
	my $t = time;
	($by, $err) = sender_replies($conf, undef, 'bob@exim.test',
	    map { "$_\@example.net" } @rows);
	my $took = time - $t;
	$table{sender}{$_}{$name} = $by->{"$_\@example.net"} for @rows;
	$errs{sender}{$name} = $err;
	($by, my $err2) = sender_replies($down, undef, 'bob@exim.test',
	    'down@example.net');
	$table{sender}{down}{$name} = $by->{'down@example.net'};
	$errs{sender}{$name} .= $err2;
	ok($took >= 1.8 && $took < 15, sprintf("$name: the hung savd costs"
	    . ' one SAVD_READ_TIMEOUT (2s) and no more (%.1fs for %d senders)',
	    $took, scalar @rows));
	# recipient: null sender (not checked), RCPT TO:<row@relay.test>
	($r, $err) = exim_bh($conf, ['MAIL FROM:<>',
	    map { "RCPT TO:<$_\@relay.test>" } @rows]);
	$table{recipient}{$rows[$_]}{$name} = $r->[3 + $_] // '(none)'
	    for 0 .. $#rows;
	$errs{recipient}{$name} = $err;
	($r) = exim_bh($down, ['MAIL FROM:<>', 'RCPT TO:<down@relay.test>']);
	$table{recipient}{down}{$name} = $r->[3] // '(none)';

	for my $role (qw(sender recipient)) {
		for my $row (@ROWS) {
			my $got = $table{$role}{$row}{$name} // '(none)';
			my $want = expect_action($row, $m);
			like($got, qr/^$CODE{$want} /,
			    "$name: $role $row: $want ($CODE{$want})")
			    or diag($got);
			unlike($got, qr/10\.0\.0\.|10\.1\.2\.3|192\.0\.2\.10|relay\.internal
			    |inprogress|ratelimited|overloaded|unreachable|tempfail|dnsfail
			    |badrequest|allow_networks|max_callouts|domain_rate|savd|source=/xi,
			    "$name: $role $row: no internal address, word or setting in"
			    . ' the reply');
		}
	}
	unlike($errs{sender}{$name} . $errs{recipient}{$name},
	    qr/failed to expand|Temporary local problem|syntax error/i,
	    "$name: every statement expands");
}

# The exact replies, SAVD_MODE=enforce.
my $E = 'SAVD_MODE=enforce';
is($table{sender}{rejected}{$E}, '550 5.1.0 Sender verify failed:'
    . ' mx1.example.net said: 550 5.1.1 <rejected@example.net>: Recipient'
    . ' address rejected: User unknown',
    'fail: 550 5.1.0, our words, the remote quoted with its host name');
is($table{recipient}{rejected}{$E}, '550 5.1.1 Recipient verify failed:'
    . ' the mail server said: 550 5.1.1 <rejected@example.net>: Recipient'
    . ' address rejected: User unknown',
    'recipient fail: 550 5.1.1, the server quoted without its name');
is($table{sender}{nullmx}{$E}, '550 5.1.0 Sender verify failed:'
    . ' example.net publishes a null MX: it accepts no mail',
    'fail decided by DNS: savd\'s text');
is($table{sender}{greylisted}{$E}, '451 4.1.0 Sender verify deferred:'
    . ' mx1.example.net said: 451 4.7.1 Greylisted, try again later',
    'a remote\'s 451: our 451 4.1.0, the remote quoted');
is($table{sender}{toomany}{$E}, '451 4.1.0 Sender verify deferred: the'
    . ' sender\'s mail server gave a temporary error, try again later',
    'a remote\'s 421: our 451, its text (about us) not quoted');
is($table{recipient}{toomany}{$E}, '451 4.1.0 Recipient verify deferred:'
    . ' the mail server gave a temporary error, try again later',
    'recipient, a remote\'s 421: our 451');
my $DD = 'enforce, SAVD_DEFER=defer';
is($table{sender}{unreachable}{$DD}, '451 4.1.0 Sender verify deferred:'
    . ' the sender\'s mail server could not be reached, try again later',
    'SAVD_DEFER=defer, unreachable: our words');
is($table{recipient}{unreachable}{$DD}, '451 4.1.0 Recipient verify'
    . ' deferred: the mail server could not be reached, try again later',
    'SAVD_DEFER=defer, recipient backend unreachable: no internal address');
is($table{sender}{timeout}{$DD}, '451 4.1.0 Sender verify deferred: the'
    . ' sender\'s mail server did not answer in time, try again later',
    'SAVD_DEFER=defer, timeout');
is($table{sender}{dnsfail}{$DD}, '451 4.1.0 Sender verify deferred: the'
    . ' DNS lookup of the sender\'s domain failed, try again later',
    'SAVD_DEFER=defer, dnsfail');
is($table{sender}{$_}{$DD}, '451 4.1.0 Sender verify deferred: the check is'
    . ' not complete yet, try again later', "SAVD_DEFER=defer, $_: no"
    . ' internal word') for qw(inprogress ratelimited overloaded);
is($table{sender}{policy}{$DD}, '451 4.1.0 Sender verify deferred: the'
    . ' sender\'s mail server could not be reached, try again later',
    'SAVD_DEFER=defer, a policy defer (route refused): no setting named');
is($table{sender}{$_}{'enforce, SAVD_FAIL_CLOSED'}, '451 4.3.0 Address'
    . ' verification is unavailable, try again later',
    "SAVD_FAIL_CLOSED, $_: 451 4.3.0") for qw(down hung error closed);

# Log lines and headers.
like($errs{sender}{$E}, qr/rejected RCPT <bob\@exim\.test>: sender verify failed for <rejected\@example\.net>: result=fail/,
    'enforce: the rejection is logged with savd\'s answer');
like($errs{sender}{$E}, qr/Warning: savd: sender <unreachable\@example\.net> defer unreachable: accepted unverified: 451 4\.1\.0 /,
    'SAVD_DEFER=accept: the accepted defer is logged');
like($errs{sender}{'SAVD_MODE=warn (default)'}, qr/Warning: savd: sender <rejected\@example\.net> fail rejected: warn mode, would reject: 550 5\.1\.0 Sender verify failed: mx1\.example\.net said: 550 5\.1\.1 /,
    'warn: what enforce would do is logged');
like($errs{sender}{$E}, qr/Warning: savd: sender <down\@example\.net> not verified \(savd unreachable\): unknown/,
    'savd down: logged');
like($errs{sender}{$E}, qr/savd: no usable answer for sender <error\@example\.net>: result=error/,
    'result=error: logged as no usable answer');

for my $c (['SAVD_MODE=warn (default)', {}, 'rejected', 'fail rejected (warn mode: would reject)'],
    [$E, { SAVD_MODE => 'enforce' }, 'timeout', 'defer timeout (accepted unverified)'],
    [$E, { SAVD_MODE => 'enforce' }, 'ok', undef]) {
	my ($name, $m, $lp, $want) = @$c;
	my $conf = exim_conf(%$m, SAVD_SOCKET => "$dir/fake.sock");
	($r, $err) = exim_bh($conf, ["MAIL FROM:<$lp\@example.net>",
	    'RCPT TO:<bob@exim.test>', 'RCPT TO:<carol@exim.test>',
	    "RCPT TO:<$lp\@relay.test>", 'DATA', 'Subject: test', '', 'hi',
	    '.']);
	like($r->[7], qr/^250 /, "$name, $lp: the message is accepted");
	my ($h) = $err =~ /^LOG: .*HEADERS: (.*)$/m;
	if (defined $want) {
		is($h, "sender <$lp\@example.net> $want | recipient"
		    . " <$lp\@relay.test> $want", "$name, $lp: X-Savd-Verify:"
		    . ' once for the sender, once per recipient');
	} else {
		is($h, '', "$name, $lp: no X-Savd-Verify: header");
	}
}

# Once per message; SAVD_NO_CACHE; exemptions; postmaster and abuse.
my $ecf = exim_conf(SAVD_MODE => 'enforce', SAVD_SOCKET => "$dir/fake.sock");
truncate($fake->{log}, 0);
($r) = exim_bh($ecf, ['MAIL FROM:<rejected@example.net>',
    'RCPT TO:<bob@exim.test>', 'RCPT TO:<carol@exim.test>',
    'RCPT TO:<postmaster@exim.test>', 'RCPT TO:<abuse@exim.test>',
    'RCPT TO:<abuse@relay.test>', 'RCPT TO:<Postmaster@relay.test>']);
like($r->[3], qr/^550 5\.1\.0 /, 'a failed sender: 550 at the first RCPT');
like($r->[4], qr/^550 5\.1\.0 /, '... and at the next');
like($r->[$_], qr/^250 /, "... but postmaster/abuse of our domains accepted"
    . " (RCPT $_)") for 5 .. 8;
my @asked = split(/\n/, slurp($fake->{log}));
is(scalar(grep { /^SENDER <rejected\@example\.net> / } @asked), 1,
    'the sender is asked once per message');
ok(!grep({ /abuse|postmaster/i } @asked), 'postmaster and abuse are never'
    . ' called forward');
unlike(join("\n", @asked), qr/cache=no/, 'cache=no is not sent by default');
truncate($fake->{log}, 0);
($by) = sender_replies(exim_conf(SAVD_MODE => 'enforce', SAVD_NO_CACHE => 1,
    SAVD_SOCKET => "$dir/fake.sock"), undef, 'bob@exim.test',
    'rejected@example.net');
like($by->{'rejected@example.net'}, qr/^550 /, 'SAVD_NO_CACHE: still 550');
like(slurp($fake->{log}), qr/^SENDER <rejected\@example\.net> .*\bcache=no\b/m,
    'SAVD_NO_CACHE: the request says cache=no');

truncate($fake->{log}, 0);
($r) = exim_bh($ecf, ['MAIL FROM:<rejected@example.net>',
    'RCPT TO:<bob@exim.test>', 'RCPT TO:<rejected@relay.test>'], undef,
    '192.0.2.50');
like($r->[$_], qr/^250 /, "a host in host_local_deny_exceptions: RCPT $_"
    . ' accepted') for 3, 4;
($r) = exim_bh($ecf, ['MAIL FROM:<rejected@exempt.test>',
    'RCPT TO:<bob@exim.test>', 'RCPT TO:<rejected@relay.test>']);
like($r->[$_], qr/^250 /, "a sender in sender_local_deny_exceptions: RCPT $_"
    . ' accepted') for 3, 4;
($r) = exim_bh($ecf, ['MAIL FROM:<rejected@example.net>',
    'RCPT TO:<bob@exim.test>'], undef, '192.0.2.99');
like($r->[3], qr/^250 /, 'relay_from_hosts (Debian\'s accept before us):'
    . ' accepted');
is(slurp($fake->{log}), '', '... and savd was not asked for any of them');
my $own = exim_conf(SAVD_MODE => 'enforce', SAVD_SOCKET => "$dir/fake.sock",
    SAVD_EXEMPT_HOSTS => '192.0.2.77', SAVD_EXEMPT_SENDERS => 'boss@example.net');
($r) = exim_bh($own, ['MAIL FROM:<rejected@example.net>',
    'RCPT TO:<bob@exim.test>'], undef, '192.0.2.77');
like($r->[3], qr/^250 /, 'SAVD_EXEMPT_HOSTS: accepted');
($r) = exim_bh($own, ['MAIL FROM:<rejected@example.net>',
    'RCPT TO:<bob@exim.test>'], undef, '192.0.2.50');
like($r->[3], qr/^550 /, '... and the Debian file is no longer used then');

# The table of results x settings, as doc/exim.md shows it.
for my $role (qw(sender recipient)) {
	note("\n| $role: savd says | " . join(' | ', map { $_->[0] } @COLS)
	    . " |\n|---|" . join('', map { '---|' } @COLS));
	for my $row (@ROWS) {
		my $ans = $row eq 'down' ? '(socket missing)'
		    : $row eq 'hung' ? '(no answer in 2s)'
		    : $row eq 'closed' ? '(closes, no answer)'
		    : join(' ', (split(/ /, $ANSWER{$row}))[0, 1],
			$row =~ /^(greylisted|toomany)$/ ? $ANSWER{$row} =~ /(code=\d+)/
			: $row eq 'policy' ? 'source=policy' : ());
		note("| $ans | " . join(' | ', map { $table{$role}{$row}{$_->[0]}
		    // '(none)' } @COLS) . ' |');
	}
}

# ------------------------------------------------------------------
# 2. The real savd behind the snippets.
my $open = exim_conf(SAVD_MODE => 'enforce');
my $closed = exim_conf(SAVD_MODE => 'enforce', SAVD_FAIL_CLOSED => 'yes');
my $missing_open = exim_conf(SAVD_MODE => 'enforce',
    SAVD_SOCKET => "$dir/missing.sock");
my $missing_closed = exim_conf(SAVD_MODE => 'enforce',
    SAVD_SOCKET => "$dir/missing.sock", SAVD_FAIL_CLOSED => 'yes');

($r, $err) = exim_bh($open, []);
like($r->[0], qr/^220 exim\.test /, 'Exim starts with the test config')
    or diag($err);
($by, $err) = sender_replies($open, undef, 'bob@exim.test',
    'alice@good.test', 'unknown1@good.test', 'grey1@good.test',
    'x@nullmx.test', '', 'r553a@good.test', 'r450a@good.test');
like($by->{'alice@good.test'}, qr/^250 /, 'existing sender: 250');
is($by->{'unknown1@good.test'}, '550 5.1.0 Sender verify failed:'
    . ' mx.good.test said: 550 5.1.1 <unknown1@good.test>: Recipient'
    . ' address rejected: User unknown',
    'rejected sender: 550 5.1.0, the remote quoted');
is($by->{'grey1@good.test'}, '451 4.1.0 Sender verify deferred:'
    . ' mx.good.test said: 451 4.7.1 Greylisted, try again later',
    'greylisted sender: 451, the remote quoted');
like($by->{'x@nullmx.test'}, qr/^550 5\.1\.0 Sender verify failed: .*null MX/,
    'sender at a null-MX domain: 550 with savd\'s text');
like($by->{''}, qr/^250 /, 'null sender: 250');
is($by->{'r553a@good.test'}, '550 5.1.0 Sender verify failed: mx.good.test'
    . ' said: 553 5.0.0 Scripted reply 553',
    'a remote\'s 553: our 550, the 553 quoted');
is($by->{'r450a@good.test'}, '451 4.1.0 Sender verify deferred:'
    . ' mx.good.test said: 450 4.0.0 Scripted reply 450',
    'a remote\'s 450: our 451, the 450 quoted');
like($err, qr/rejected RCPT <bob\@exim\.test>: sender verify failed for <unknown1\@good\.test>/,
    'the rejection is logged with savd\'s answer');
unlike($err, qr/savd unreachable|no usable answer/,
    'savd was reachable for every sender');

my $before = $d->stats->{requests};
($by) = sender_replies($open, undef, 'bob@exim.test', '');
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
is($r->[4], '550 5.1.1 Recipient verify failed: the mail server said: 550'
    . ' 5.1.1 <unknown7@relay.test>: Recipient address rejected: User unknown',
    'unknown relay recipient: 550 5.1.1, the server quoted');
is($r->[5], '451 4.1.0 Recipient verify deferred: the mail server said:'
    . ' 451 4.7.1 Greylisted, try again later',
    'greylisted relay recipient: 451');
is($r->[6], '550 5.1.1 Recipient verify failed: the mail server said: 550'
    . ' 5.1.1 <"un known"@relay.test>: Recipient address rejected: User'
    . ' unknown', 'quoted local part: quoted for savd, text unescaped by Exim');
like($r->[7], qr/^250 /, 'a local domain is not called forward');
is(scalar(grep { /C: RCPT TO:<unknown7\@relay\.test>/ }
    split(/\n/, $smtp->log_text)), 1,
    'the call-forward reached the routed host');
ok(scalar(grep { $_->{local} eq '127.0.0.4' } @{ $smtp->sessions }),
    'routes sent the callout to 127.0.0.4');

# --- a stopped call-forward backend (route to 127.0.0.9, nothing there)
($r, $err) = exim_bh($open, ['MAIL FROM:<alice@good.test>',
    'RCPT TO:<bob@deadrelay.test>']);
like($r->[3], qr/^250 /, 'call-forward backend down, SAVD_DEFER=accept:'
    . ' accepted') or diag($err);
like($err, qr/savd: recipient <bob\@deadrelay\.test> defer unreachable: accepted unverified/,
    '... and logged');
($r) = exim_bh(exim_conf(SAVD_MODE => 'enforce', SAVD_DEFER => 'defer'),
    ['MAIL FROM:<alice@good.test>', 'RCPT TO:<bob@deadrelay.test>']);
is($r->[3], '451 4.1.0 Recipient verify deferred: the mail server could not'
    . ' be reached, try again later', 'SAVD_DEFER=defer: 451 without the'
    . ' internal address');

# --- a sender whose MX blocks us is accepted; one whose MX says the user
# is unknown is rejected (doc/protocol.md 4b: only what speaks about the
# address may become fail).
for my $c ([$open, 'fail open'], [$closed, 'fail closed']) {
	($by, $err) = sender_replies($c->[0], undef, 'bob@exim.test',
	    'someone@blocked.test', 'someone@nouser.test');
	like($by->{'someone@blocked.test'}, qr/^250 /, "$c->[1]: a sender whose"
	    . ' MX blocks us (554 5.7.1 ... blocked using zen.spamhaus.org)'
	    . ' is ACCEPTED')
	    or diag("Exim answered: $by->{'someone\@blocked.test'}");
	is($by->{'someone@nouser.test'}, '550 5.1.0 Sender verify failed:'
	    . ' mx.nouser.test said: 550 5.1.1 <someone@nouser.test>: user'
	    . ' unknown', "$c->[1]: a sender whose MX says 550 5.1.1 user"
	    . ' unknown is rejected, the reply quoted');
	unlike($err, qr/sender verify failed for <someone\@blocked\.test>/,
	    "$c->[1]: ... and no rejection is logged for the blocked one");
}
my $ans = $d->query('SENDER <someone@blocked.test>');
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
($by, $err) = sender_replies($missing_open, undef, 'bob@exim.test',
    'unknown2@good.test');
like($by->{'unknown2@good.test'}, qr/^250 /,
    'socket missing, fail open: accepted');
like($err, qr/not verified \(savd unreachable\): unknown/,
    '... and logged as savd unreachable');
($by, $err) = sender_replies($missing_closed, undef, 'bob@exim.test',
    'alice@good.test');
is($by->{'alice@good.test'}, '451 4.3.0 Address verification is'
    . ' unavailable, try again later', 'socket missing, fail closed: 451');
($r) = exim_bh($missing_closed, ['MAIL FROM:<>',
    'RCPT TO:<bob@relay.test>']);
like($r->[2], qr/^250 /, 'fail closed: the null sender is still accepted');
like($r->[3], qr/^451 4\.3\.0 /, 'fail closed: call-forward deferred');

# A socket that accepts and never answers: Exim's timeout (with its unit)
# fires and SAVD_DOWN applies; fail open, the mail goes on.
my $mute = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => "$dir/mute.sock",
    Listen => 5) or die "mute.sock: $!";
chmod(0666, "$dir/mute.sock");
for my $c ([exim_conf(SAVD_MODE => 'enforce', SAVD_SOCKET => "$dir/mute.sock",
    SAVD_READ_TIMEOUT => '2s'), qr/^250 /, 'fail open: accepted'],
    [exim_conf(SAVD_MODE => 'enforce', SAVD_SOCKET => "$dir/mute.sock",
    SAVD_READ_TIMEOUT => '2s', SAVD_FAIL_CLOSED => 'yes'), qr/^451 4\.3\.0 /,
    'fail closed: 451']) {
	my $t = time;
	($by) = sender_replies($c->[0], undef, 'bob@exim.test',
	    'alice@good.test');
	my $took = time - $t;
	like($by->{'alice@good.test'}, $c->[1],
	    "savd hung, no answer within SAVD_READ_TIMEOUT, $c->[2]");
	ok($took >= 1.5 && $took < 10, sprintf('... after the 2s timeout'
	    . ' (%.1fs)', $took));
}
close($mute);

# --- as an ordinary user: the socket permissions as Exim meets them
SKIP: {
	skip 'not root: cannot run Exim as another user', 8 unless $root;
	skip 'no Debian-exim group', 8 unless $exim_group;
	# Exim run by root drops to its own user for -C: without the group
	# the socket is out of its reach.
	chmod(0600, $d->sock) or die "chmod: $!";
	($by, $err) = sender_replies($open, undef, 'bob@exim.test',
	    'unknown3@good.test');
	like($by->{'unknown3@good.test'}, qr/^250 /,
	    'root-only socket (0600): Exim\'s user is refused, fail open');
	like($err, qr/savd unreachable/, '... logged as savd unreachable');
	chmod(0660, $d->sock) or die "chmod: $!";
	($by, $err) = sender_replies($open, 'nobody', 'bob@exim.test',
	    'unknown3@good.test');
	like($by->{'unknown3@good.test'}, qr/^250 /,
	    'nobody, socket 0660 group Debian-exim: refused, fail open accepts');
	like($err, qr/savd unreachable/, '... logged as savd unreachable');
	($by) = sender_replies($closed, 'nobody', 'bob@exim.test',
	    'alice@good.test');
	like($by->{'alice@good.test'}, qr/^451 4\.3\.0 /,
	    'nobody, socket not permitted, fail closed: 451');
	chmod(0666, $d->sock) or die "chmod: $!";
	($by, $err) = sender_replies($open, 'nobody', 'bob@exim.test',
	    'unknown3@good.test', 'alice@good.test', 'grey3@good.test');
	like($by->{'unknown3@good.test'}, qr/^550 5\.1\.0 Sender verify failed:/,
	    'nobody, socket 0666: 550');
	like($by->{'alice@good.test'}, qr/^250 /, 'nobody, socket 0666: 250');
	like($by->{'grey3@good.test'}, qr/^451 4\.1\.0 /,
	    'nobody, socket 0666: 451');
	chmod(0660, $d->sock) or die "chmod: $!";
}

# ------------------------------------------------------------------
# 3. Debian's split configuration, the snippets dropped in as
# doc/exim.md says: conf.d/main/00_savd and CHECK_RCPT_LOCAL_ACL_FILE.
SKIP: {
	my $upd = '/usr/sbin/update-exim4.conf';
	skip 'no Debian exim4-config (update-exim4.conf, /etc/exim4/conf.d)', 8
	    unless -x $upd && -d '/etc/exim4/conf.d';
	skip 'not root: Exim reads a -C file of root only', 8 unless $root;
	my $etc = "$dir/etc-exim4";
	system('cp', '-a', '/etc/exim4', $etc) == 0 or die "cp /etc/exim4";
	mkdir("$etc/savd");
	copy("$EXAMPLES/$_", "$etc/savd/$_") or die "copy $_: $!"
	    for @SNIPPETS;
	my $u = slurp("$etc/update-exim4.conf.conf");
	$u =~ s/^dc_use_split_config=.*$/dc_use_split_config='true'/m;
	$u =~ s/^dc_relay_domains=.*$/dc_relay_domains='relay.test'/m;
	$u =~ s/^dc_other_hostnames=.*$/dc_other_hostnames='exim.test'/m;
	$u =~ s/^dc_eximconfig_configtype=.*$/dc_eximconfig_configtype='internet'/m;
	Savd::spit("$etc/update-exim4.conf.conf", $u);
	# the relay domain's internal server, as Debian routes it
	Savd::spit("$etc/hubbed_hosts", "relay.test: 127.0.0.4\n");
	# doc/exim.md, step 3, with the test's socket and directory.
	Savd::spit("$etc/conf.d/main/00_savd", <<"EOF");
SAVD_MODE = enforce
SAVD_SOCKET = ${\ $d->sock}
SAVD_DIR = $etc/savd
.include $etc/savd/savd-macros.conf
CHECK_RCPT_LOCAL_ACL_FILE = $etc/savd/savd-check-rcpt.conf
EOF
	my $gen = "$dir/debian.conf";
	my $res = run_cmd([$upd, '-d', $etc, '-o', $gen], timeout => 30);
	is($res->{status}, 0, 'update-exim4.conf generates the split'
	    . ' configuration with the snippets') or diag($res->{err});
	chmod(0644, $gen);
	like(slurp($gen), qr/^\.include \Q$etc\E\/savd\/savd-macros\.conf$/m,
	    '... with the macros in the main section');
	$res = run_cmd([$exim, '-C', $gen, '-bV'], timeout => 30);
	is($res->{status}, 0, 'exim -bV accepts it') or diag($res->{out}
	    . $res->{err});
	# Debian's ACLs read CONFDIR files: point them at the copy.
	my $g = slurp($gen);
	$g =~ s/^CONFDIR = .*$/CONFDIR = $etc/m or $g = "CONFDIR = $etc\n$g";
	Savd::spit($gen, $g);
	chmod(0644, $gen);
	($r, $err) = exim_bh($gen, ['MAIL FROM:<unknown8@good.test>',
	    'RCPT TO:<postmaster@exim.test>', 'RCPT TO:<root@exim.test>',
	    'RCPT TO:<abuse@exim.test>', 'RSET',
	    'MAIL FROM:<alice@good.test>', 'RCPT TO:<root@exim.test>',
	    'RCPT TO:<unknown8@relay.test>', 'RCPT TO:<bob@relay.test>']);
	like($r->[3], qr/^250 /, 'Debian: postmaster accepted from a failed'
	    . ' sender') or diag($err);
	like($r->[4], qr/^550 5\.1\.0 Sender verify failed: mx\.good\.test said:/,
	    'Debian: a failed sender is rejected at RCPT');
	like($r->[5], qr/^250 /, 'Debian: abuse accepted from a failed sender');
	like($r->[8], qr/^250 /, 'Debian: a good sender is accepted');
	like($r->[9], qr/^550 5\.1\.1 Recipient verify failed:/,
	    'Debian: an unknown relay recipient is rejected');
	like($r->[10], qr/^250 /, 'Debian: a known relay recipient is accepted');
}

note(sprintf('Exim checks took %.1fs', time - $t0));
done_testing();

# A scripted savd on a UNIX socket: one child per connection reads the
# request line, logs it to $log and answers $answer->{LOCALPART} (undef:
# never answers; '': closes without an answer).
sub start_fake_savd {
	my ($path, $answer) = @_;
	my $log = "$dir/fake.log";
	Savd::spit($log, '');
	chmod(0666, $log);
	my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
	    Listen => 16) or die "$path: $!";
	chmod(0666, $path);
	my $parent = $$;
	my $pid = fork() // die "fork: $!";
	if ($pid) {
		$Savd::CHILDREN{$pid} = 'fake savd';
		close($l);
		return { pid => $pid, log => $log };
	}
	$SIG{TERM} = sub { POSIX::_exit(0) };
	$SIG{CHLD} = 'IGNORE';
	my $sel = IO::Select->new($l);
	while (getppid() == $parent) {
		next unless $sel->can_read(0.25);
		my $c = $l->accept or next;
		my $kid = fork();
		if (defined $kid && $kid == 0) {
			my $q = <$c> // '';
			$q =~ s/\r?\n\z//;
			if (open(my $lf, '>>', $log)) {
				print $lf "$q\n";
				close($lf);
			}
			my ($lp) = $q =~ /^\S+\s+<"?([^@">]*)/;
			my $a = $answer->{$lp // ''} // $answer->{ok};
			if (!exists $answer->{$lp // ''} || defined $answer->{$lp}) {
				print $c "$a\n" if length $a;
			} else {
				sleep(8);
			}
			close($c);
			POSIX::_exit(0);
		}
		close($c);
	}
	POSIX::_exit(0);
}

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
