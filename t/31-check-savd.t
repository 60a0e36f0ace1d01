#!/usr/bin/perl
# 31-check-savd.t - check_savd against a real savd: plugin exit codes
# 0/1/2/3, one status line, performance data, -w/-c thresholds.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd;

my $check = $ENV{CHECK_SAVD} // "$FindBin::Bin/../src/check_savd";
BAIL_OUT("$check is not built") unless -x $check;

# Run a program (bounded by Savd::run_cmd); returns (exit status,
# stdout, stderr).
sub run {
	my $r = Savd::run_cmd([@_], timeout => 30);
	return ($r->{status} // -1, $r->{out}, $r->{err});
}

my $d = Savd::start_savd(conf => {});
my @c = ($check, '-s', $d->{sock}, '-t', '10');
my ($rc, $out);

($rc, $out) = run(@c);
is($rc, 0, 'running daemon: OK, exit 0');
like($out, qr/^SAVD OK - status ok, \d+ inflight, answer [\d.]+ ms \| /,
    '... status line');
is(($out =~ tr/\n//), 1, '... exactly one line');
like($out, qr/ \| time=[\d.]+s;;;0; inflight=\d+;;;0;/,
    '... time and inflight perfdata');
like($out, qr/ requests=\d+c;;;0;/, '... requests counter perfdata');
like($out, qr/ uptime=\d+s;;;0;/, '... uptime perfdata');

($rc, $out) = run(@c, '-w', ',0', '-c', ',0');
is($rc, 0, 'inflight thresholds of 0 with nothing in flight: OK');

($rc, $out) = run(@c, '-w', '100000,100000', '-c', '200000,200000');
is($rc, 0, 'generous thresholds: OK');
like($out, qr/time=[\d.]+s;100;200;0; inflight=\d+;100000;200000;0;/,
    '... thresholds appear in the perfdata, time in seconds');

($rc, $out) = run(@c, '-w', '0.000001');
is($rc, 1, 'answer time above -w: WARNING, exit 1');
like($out, qr/^SAVD WARNING - .*answer [\d.]+ ms \(> 0\.000001 ms\)/,
    '... says which threshold');

($rc, $out) = run(@c, '-w', '0', '-c', '0.000001');
is($rc, 2, 'answer time above -c: CRITICAL, exit 2');
like($out, qr/^SAVD CRITICAL - /, '... CRITICAL line');

($rc, $out) = run(@c, '--warning', '100000', '--critical=0');
is($rc, 2, 'long options work');

($rc, $out) = run(@c, '-w', 'fast');
is($rc, 3, 'bad threshold: UNKNOWN, exit 3');
like($out, qr/^SAVD UNKNOWN - bad threshold/, '... says so');

($rc, $out) = run(@c, 'extra');
is($rc, 3, 'stray argument: exit 3');

($rc, $out) = run($check, '-V');
is($rc, 0, '-V exits 0');
like($out, qr/^check_savd /, '... prints the version');

($rc, $out) = run($check, '-h');
is($rc, 0, '-h exits 0');
like($out, qr/^usage: check_savd/, '... prints the usage');

($rc, $out) = run($check, '-s', "$d->{sock}.missing", '-t', '5');
is($rc, 3, 'missing socket: UNKNOWN, exit 3');
like($out, qr/^SAVD UNKNOWN - \Q$d->{sock}.missing\E: /, '... names it');

$d->stop;

($rc, $out) = run(@c);
is($rc, 3, 'stopped daemon: UNKNOWN, exit 3');
like($out, qr/^SAVD UNKNOWN - /, '... UNKNOWN line');

done_testing();
