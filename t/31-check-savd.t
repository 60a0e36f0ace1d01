#!/usr/bin/perl
# 31-check-savd.t - check_savd against a real savd and against scripted
# ones, for the Monitoring Plugins guidelines: exit 0/1/2/3, CRITICAL when
# the daemon does not answer (no socket, refused, timeout, garbage),
# UNKNOWN only for bad arguments and unreadable answers, -h and -V exit 3,
# the guidelines' threshold ranges, and perfdata in
# 'label'=value[UOM];[warn];[crit];[min];[max] form.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::UNIX;
use POSIX ();
use Socket qw(SOCK_STREAM);
use Test::More;
use Time::HiRes qw(time);
use Savd;

my $check = $ENV{CHECK_SAVD} // "$FindBin::Bin/../src/check_savd";
BAIL_OUT("$check is not built") unless -x $check;
my ($version) = Savd::slurp("$FindBin::Bin/../configure.ac")
    =~ /AC_INIT\(\[savd\],\s*\[([^\]]+)\]/;

# Run a program (bounded by Savd::run_cmd); returns (exit status,
# stdout, stderr).
sub run {
	my $r = Savd::run_cmd([@_], timeout => 30);
	return ($r->{status} // -1, $r->{out}, $r->{err});
}

# Every perfdata item is 'label'=value[UOM];[warn];[crit];[min];[max].
my $RANGE = qr/\@?(?:~|-?[\d.]+)?:?(?:-?[\d.]+)?/;
my $PERF = qr/(?:'[^'=]+'|[^'= ]+)=(?:-?[\d.]+|U)(?:s|ms|us|%|B|KB|MB|TB|c)?
    (?:;$RANGE(?:;$RANGE(?:;(?:-?[\d.]+)?(?:;(?:-?[\d.]+)?)?)?)?)?/x;
sub perf_ok {
	my ($out, $name) = @_;
	my ($perf) = $out =~ /^[^\n|]*\| ([^\n]*)\n/;
	my @bad = grep { !/^$PERF$/ } split / /, $perf // '';
	ok(defined $perf && !@bad, "$name: perfdata syntax")
	    or diag("bad items: @bad\n$out");
}

# --- a real daemon ------------------------------------------------------
my $d = Savd::start_savd(conf => {});
my @c = ($check, '-s', $d->{sock}, '-t', '10');
my ($rc, $out);

($rc, $out) = run(@c);
is($rc, 0, 'running daemon: OK, exit 0');
like($out, qr/^SAVD OK - status ok, \d+ inflight, answer [\d.]+ ms \| /,
    '... status line');
is(($out =~ tr/\n//), 1, '... exactly one line');
perf_ok($out, 'OK');
for my $l (qw(time dnsfail timeout blocked inflight loop_lag last_success
    sessions backed_off blocked_hosts requests uptime)) {
	like($out, qr/ \Q$l\E=/, "... perfdata has $l");
}
like($out, qr/ time=[\d.]+ms;;;0; /, '... time in ms, min 0');
like($out, qr/ dnsfail=\d+%;;;0;100 /, '... shares in %, 0 to 100');
like($out, qr/ last_success=U;/, '... no success yet: U (undetermined)');
like($out, qr/ requests=\d+c;;;0;/, '... counters with UOM c');

($rc, $out) = run(@c, '-w', '100000', '-c', '200000');
is($rc, 0, 'generous time thresholds: OK');
like($out, qr/ time=[\d.]+ms;100000;200000;0; /, '... echoed in the perfdata');

($rc, $out) = run(@c, '-w', '0.000001');
is($rc, 1, 'answer time above -w: WARNING, exit 1');
like($out, qr/^SAVD WARNING - .*time [\d.]+ms \(warning range 0\.000001\)/,
    '... says which threshold');

($rc, $out) = run(@c, '-w', '0', '-c', '0.000001');
is($rc, 2, 'answer time above -c: CRITICAL, exit 2');
like($out, qr/^SAVD CRITICAL - /, '... CRITICAL line');

($rc) = run(@c, '--warning-time', '100000', '--critical-time=0');
is($rc, 2, 'long options work');
($rc) = run(@c, '--warning', '100000', '--critical=0');
is($rc, 2, '--warning and --critical are -w and -c');

# The guidelines' range forms, on inflight (0 with nothing running).
($rc) = run(@c, '--warning-inflight', '1:');
is($rc, 1, 'N: alerts below N (0 < 1): WARNING');
($rc) = run(@c, '--critical-inflight', '~:5');
is($rc, 0, '~:N alerts only above N: OK');
($rc) = run(@c, '--critical-inflight', '@0:0');
is($rc, 2, '@N:M alerts inside: CRITICAL');
($rc) = run(@c, '--critical-inflight', '@10:20');
is($rc, 0, '@10:20 with 0: OK');
($rc) = run(@c, '--warning-inflight', '10:20');
is($rc, 1, '10:20 with 0: outside, WARNING');
($rc, $out) = run(@c, '--warning-dnsfail', '20', '--critical-blocked', '50',
    '--warning-lag', '100', '--critical-last-success', '3600',
    '--warning-timeouts', '~:50');
is($rc, 0, 'per-metric ranges within bounds: OK');
like($out, qr/ dnsfail=\d+%;20;;0;100 .* blocked=\d+%;;50;0;100 .* loop_lag=\d+ms;100;;0;/,
    '... and in the perfdata');
perf_ok($out, 'with thresholds');

($rc, $out) = run(@c, '-v');
is($rc, 0, '-v: OK');
like($out, qr/\A[^\n]*\|[^\n]*\nHEALTH: result=ok [^\n]*\nSTATS: result=ok /,
    '... the answers follow the status line');

for my $bad (['-w', 'fast'], ['-w', '20:10'], ['--warning-dnsfail', '1:2:3'],
    ['-c', '@'], ['-t', 'soon'], ['extra'], ['--nosuch']) {
	($rc, $out) = run(@c, @$bad);
	is($rc, 3, "bad arguments (@$bad): UNKNOWN, exit 3");
	like($out, qr/^SAVD UNKNOWN - /, '... UNKNOWN line');
}

($rc, $out) = run($check, '-V');
is($rc, 3, '-V exits 3, as the plugins\' own tests expect');
is($out, "check_savd $version\n", "... prints the version, $version");
($rc, $out) = run($check, '--version');
is($rc, 3, '--version exits 3');
($rc, $out) = run($check, '-h');
is($rc, 3, '-h exits 3');
like($out, qr/^check_savd \Q$version\E .*\nusage: check_savd/s,
    '... prints the version and the usage');
like($out, qr/--warning-METRIC/, '... with the per-metric options');

($rc, $out) = run($check, '-s', "$d->{sock}.missing", '-t', '5');
is($rc, 2, 'missing socket: CRITICAL, exit 2');
like($out, qr/^SAVD CRITICAL - \Q$d->{sock}.missing\E: /, '... names it');

my $port = Savd::free_port();
($rc, $out) = run($check, '-s', "127.0.0.1:$port", '-t', '5');
is($rc, 2, 'connection refused: CRITICAL, exit 2');

$d->stop;
($rc, $out) = run(@c);
is($rc, 2, 'stopped daemon: CRITICAL, exit 2');
like($out, qr/^SAVD CRITICAL - /, '... CRITICAL line');

# --- scripted daemons -----------------------------------------------------
my $dir = Savd::tempdir();
my $n = 0;
# A UNIX socket answering every connection with $answer (undef: accept and
# say nothing).  Returns (path, pid).
sub fake {
	my ($answer) = @_;
	my $path = "$dir/fake" . $n++ . '.sock';
	my $l = IO::Socket::UNIX->new(Type => SOCK_STREAM, Local => $path,
	    Listen => 5) or die "fake: $!";
	my $pid = fork() // die "fork: $!";
	if (!$pid) {
		while (my $s = $l->accept) {
			if (defined $answer) {
				my $buf = '';
				sysread($s, $buf, 4096, length $buf)
				    while $buf !~ /\n.*\n/s && length $buf < 4096;
				print $s $answer;
				close($s);
			} else {
				sleep 30;
			}
		}
		POSIX::_exit(0);
	}
	close($l);
	return ($path, $pid);
}

my $STATS = "result=ok uptime=5 requests=3 clients=1 pending=1\n";
my $H = 'result=ok status=%s%s inflight=0 sessions=0 clients=1 cache=ok '
    . 'recent=20 dnsfail_pct=%d timeout_pct=0 blocked_pct=0 '
    . "blocked_hosts=0 last_success=12 backed_off=0 loop_lag_ms=3\n";
my @cases = (
    [ 'HEALTH status=warning: WARNING', sprintf($H, 'warning',
        ' reasons=loop_lag', 0) . $STATS, [], 1, qr/^SAVD WARNING - status warning \(loop_lag\)/ ],
    [ 'HEALTH status=critical: CRITICAL', sprintf($H, 'critical',
        ' reasons=dns_failures', 60) . $STATS, [], 2, qr/^SAVD CRITICAL - status critical \(dns_failures\)/ ],
    [ 'dnsfail 30% over --warning-dnsfail 20: WARNING',
        sprintf($H, 'ok', '', 30) . $STATS, ['--warning-dnsfail', '20'], 1,
        qr/dnsfail 30% \(warning range 20\).* dnsfail=30%;20;;0;100 / ],
    [ '... over --critical-dnsfail 25: CRITICAL',
        sprintf($H, 'ok', '', 30) . $STATS, ['--warning-dnsfail', '20',
        '--critical-dnsfail', '25'], 2, qr/dnsfail 30% \(critical range 25\)/ ],
    [ 'last success 12 s ago over --warning-last-success 10: WARNING',
        sprintf($H, 'ok', '', 0) . $STATS, ['--warning-last-success', '10'],
        1, qr/ last_success=12s;10;;0; / ],
    [ 'garbled answer: CRITICAL', "hello\nworld\n", [], 2,
        qr/^SAVD CRITICAL - .*garbled/ ],
    [ 'answer cut short: CRITICAL', sprintf($H, 'ok', '', 0), [], 2,
        qr/^SAVD CRITICAL - / ],
    [ 'HEALTH refused (result=error): UNKNOWN',
        "result=error reason=badrequest code=500\n$STATS", [], 3,
        qr/^SAVD UNKNOWN - HEALTH answered result=error/ ],
    [ 'an unknown HEALTH status: UNKNOWN', sprintf($H, 'purple', '', 0)
        . $STATS, [], 3, qr/^SAVD UNKNOWN - .*purple/ ],
);
for my $case (@cases) {
	my ($name, $answer, $args, $want, $re) = @$case;
	my ($path, $pid) = fake($answer);
	($rc, $out) = run($check, '-s', $path, '-t', '5', @$args);
	is($rc, $want, "$name (exit $want)");
	like($out, $re, '... status line') or diag($out);
	perf_ok($out, $name) if $want < 3 && $out =~ /\|/;
	kill('KILL', $pid);
	waitpid($pid, 0);
}

my ($path, $pid) = fake(undef);
my $t0 = time;
($rc, $out) = run($check, '-s', $path, '-t', '1');
is($rc, 2, 'a daemon that accepts and never answers: CRITICAL at -t');
like($out, qr/^SAVD CRITICAL - .*timed out/, '... says it timed out');
cmp_ok(time - $t0, '<', 5, '... within the timeout');
kill('KILL', $pid);
waitpid($pid, 0);

done_testing();
