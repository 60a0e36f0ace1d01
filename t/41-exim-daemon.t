#!/usr/bin/perl
# 41-exim-daemon.t - the shipped Exim snippets (examples/exim/, doc/exim.md)
# in a running Exim daemon fed by swaks, as a sending MTA meets them: the
# SMTP replies at RCPT time, the messages that are queued, and the
# X-Savd-Verify: headers in them (read from Exim's spool: queue_only, so
# nothing is delivered).  savd is a scripted socket answering canned lines
# by local part (t/40-exim.t covers every answer; here: fail, a defer savd
# could not resolve, ok, unknown, savd hung, savd down, postmaster).
# Needs root (Exim started with -C drops to Debian-exim), Exim and swaks.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use File::Copy qw(copy);
use IO::Select;
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);
use RealMTA qw(exim_bin start_exim);

plan skip_all => 'Exim is not installed' unless exim_bin();
my ($swaks) = grep { -x } qw(/usr/bin/swaks /usr/local/bin/swaks);
plan skip_all => 'swaks is not installed' unless $swaks;
plan skip_all => 'needs root (Exim drops to Debian-exim for -C)' if $> != 0;
plan skip_all => 'no Debian-exim user' unless getpwnam('Debian-exim');

my $dir = tempdir();
chmod(0711, $dir);
my $EXAMPLES = "$FindBin::Bin/../examples/exim";
for my $f (qw(savd-macros.conf savd-sender-acl.conf savd-recipient-acl.conf
    savd-check-rcpt.conf)) {
	copy("$EXAMPLES/$f", "$dir/$f") or die "copy $f: $!";
	chmod(0644, "$dir/$f");
}

my %ANSWER = (
	rejected => 'result=fail reason=rejected code=550 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="5.1.1 <rejected@example.net>:'
	    . ' Recipient address rejected: User unknown"',
	timeout => 'result=defer reason=timeout code=451 source=callout'
	    . ' mx=relay.internal[10.0.0.5] text="relay.internal[10.0.0.5]: timed out"',
	blocked => 'result=unknown reason=blocked code=530 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="5.7.0 Must issue a STARTTLS command first"',
	ok => 'result=ok reason=accepted code=250 source=callout'
	    . ' mx=mx1.example.net[192.0.2.10] text="2.1.5 Ok"',
	hung => undef,
);
start_fake_savd("$dir/savd.sock", \%ANSWER);

my $nexim = 0;
sub exim_daemon {
	my (%m) = @_;
	$m{SAVD_SOCKET} //= "$dir/savd.sock";
	$m{SAVD_DIR} = $dir;
	$m{SAVD_ETC} = "$dir/etc";
	$m{SAVD_READ_TIMEOUT} = '2s';
	$m{SAVD_ANSWER_WITHIN} = 1;
	my $edir = "$dir/e" . ++$nexim;     # a spool and log of its own
	mkdir($edir) or die "$edir: $!";
	my $e = start_exim(dir => $edir, addr => '127.0.0.1', port => free_port(),
	    hostname => "exim$nexim.test",
	    main => join('', map { "$_ = $m{$_}\n" } sort keys %m) . <<"EOF",
.include $dir/savd-macros.conf
queue_only = true
domainlist local_domains = exim.test
domainlist relay_to_domains = relay.test
acl_smtp_rcpt = acl_check_rcpt
EOF
	    acl => <<"EOF");
begin acl
acl_check_rcpt:
  accept  local_parts = postmaster
          domains     = +local_domains : +relay_to_domains
  accept  authenticated = *
  require message     = relay not permitted
          domains     = +local_domains : +relay_to_domains
.include $dir/savd-check-rcpt.conf
  accept
EOF
	return $e;
}

# One message through swaks: (exit code, the last server reply, output).
sub swaks {
	my ($e, $from, @to) = @_;
	my $res = run_cmd([$swaks, '--server', $e->addr . ':' . $e->port,
	    '--helo', 'client.test', '--from', $from, '--to', join(',', @to),
	    '--timeout', '30'], timeout => 60);
	# the refusal, its lines joined (the repeated codes dropped)
	my $rcpt;
	for (split(/\n/, $res->{out})) {
		next unless /^<\*\* (\d{3})[- ](?:([245]\.\d+\.\d+) )?(.*)$/;
		$rcpt = defined $rcpt ? "$rcpt $3" : "$1 " . (defined $2 ? "$2 " : '') . $3;
	}
	return ($res->{status}, $rcpt, $res->{out});
}

# The X-Savd-Verify: headers of the messages queued since the last call.
my %seen;
sub queued_headers {
	my ($e) = @_;
	my @h;
	for my $f (sort glob($e->dir . '/spool/input/*-H')) {
		next if $seen{$f}++;
		push @h, [map { /^\d{3}  X-Savd-Verify: (.*)$/ ? $1 : () }
		    split(/\n/, slurp($f))];
	}
	return \@h;
}

my $enforce = exim_daemon(SAVD_MODE => 'enforce');
my ($rc, $rej, $out, $srv) = swaks($enforce, 'rejected@example.net',
    'bob@exim.test');
isnt($rc, 0, 'enforce, failed sender: swaks reports a refusal');
is($rej, '550 5.1.0 Sender verify failed: mx1.example.net said: 550 5.1.1'
    . ' <rejected@example.net>: Recipient address rejected: User unknown',
    'enforce: 550 5.1.0 at RCPT, the remote quoted') or diag($out);
is_deeply(queued_headers($enforce), [], '... and nothing is queued');
($rc, $rej, $out) = swaks($enforce, 'rejected@example.net',
    'postmaster@exim.test');
is($rc, 0, 'enforce, failed sender to postmaster: delivered') or diag($out);
($rc, $rej, $out) = swaks($enforce, 'rejected@example.net',
    'abuse@exim.test');
is($rc, 0, 'enforce, failed sender to abuse: delivered') or diag($out);
is_deeply(queued_headers($enforce), [[], []], '... both queued, no header');
($rc, undef, $out) = swaks($enforce, 'timeout@example.net', 'bob@exim.test',
    'timeout@relay.test');
is($rc, 0, 'enforce, savd could not decide (timeout): accepted') or diag($out);
is_deeply(queued_headers($enforce), [['sender <timeout@example.net> defer'
    . ' timeout (accepted unverified)', 'recipient <timeout@relay.test>'
    . ' defer timeout (accepted unverified)']], '... with X-Savd-Verify:'
    . ' once for the sender, once for the recipient');
($rc, undef, $out) = swaks($enforce, 'blocked@example.net', 'bob@exim.test');
is($rc, 0, 'enforce, unknown blocked (remote said 530): accepted') or diag($out);
unlike($out, qr/530/, '... and its 530 is nowhere');
($rc, undef, $out) = swaks($enforce, 'ok@example.net', 'bob@exim.test');
is($rc, 0, 'enforce, ok: accepted');
is_deeply(queued_headers($enforce), [[], []], '... no header for either');
my $t = time;
($rc, undef, $out) = swaks($enforce, 'hung@example.net', 'bob@exim.test');
my $took = time - $t;
is($rc, 0, 'enforce, savd hung: the message goes on') or diag($out);
ok($took >= 1.8 && $took < 15, sprintf('... after SAVD_READ_TIMEOUT (2s):'
    . ' %.1fs', $took));
is_deeply(queued_headers($enforce), [[]], '... queued without a header');
like($enforce->log_text, qr/savd: sender <hung\@example\.net> not verified \(savd unreachable\)/,
    '... logged as savd unreachable');

my $warn = exim_daemon();
($rc, undef, $out) = swaks($warn, 'rejected@example.net', 'bob@exim.test');
is($rc, 0, 'warn (default), failed sender: accepted') or diag($out);
is_deeply(queued_headers($warn), [['sender <rejected@example.net> fail'
    . ' rejected (warn mode: would reject)']], '... with X-Savd-Verify:');
like($warn->log_text, qr/savd: sender <rejected\@example\.net> fail rejected: warn mode, would reject: 550 5\.1\.0 /,
    '... and a log line with the reply enforce would give');

my $down = exim_daemon(SAVD_MODE => 'enforce', SAVD_SOCKET => "$dir/none.sock");
($rc, undef, $out) = swaks($down, 'rejected@example.net', 'bob@exim.test');
is($rc, 0, 'enforce, savd down (socket missing): accepted') or diag($out);
my $closed = exim_daemon(SAVD_MODE => 'enforce', SAVD_FAIL_CLOSED => 'yes',
    SAVD_SOCKET => "$dir/none.sock");
($rc, $rej, $out) = swaks($closed, 'ok@example.net', 'bob@exim.test');
is($rej, '451 4.3.0 Address verification is unavailable, try again later',
    'enforce, SAVD_FAIL_CLOSED, savd down: 451 4.3.0') or diag($out);

$_->stop for $enforce, $warn, $down, $closed;
done_testing();

# A scripted savd on a UNIX socket: one child per connection reads the
# request line and answers $answer->{LOCALPART} (undef: never answers).
sub start_fake_savd {
	my ($path, $answer) = @_;
	my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
	    Listen => 16) or die "$path: $!";
	chmod(0666, $path);
	my $parent = $$;
	my $pid = fork() // die "fork: $!";
	if ($pid) {
		$Savd::CHILDREN{$pid} = 'fake savd';
		close($l);
		return $pid;
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
			my ($lp) = $q =~ /^\S+\s+<"?([^@">]*)/;
			$lp //= '';
			if (!exists $answer->{$lp}) {
				print $c "$answer->{ok}\n";
			} elsif (defined $answer->{$lp}) {
				print $c "$answer->{$lp}\n";
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
