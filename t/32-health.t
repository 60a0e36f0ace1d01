#!/usr/bin/perl
# 32-health.t - HEALTH says what a monitoring check needs, and check_savd
# turns it into the plugin status: DNS failure share, cache state, back-off.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);

my $check = $ENV{CHECK_SAVD} // "$FindBin::Bin/../src/check_savd";
BAIL_OUT("$check is not built") unless -x $check;

my $zone = join('', map { "sf$_.test SERVFAIL\n" } 1 .. 12)
    . "ok.test MX 10 mx.ok.test\nmx.ok.test A 127.0.0.2\n"
    . "bo.test MX 10 mx.bo.test\nmx.bo.test A 127.0.0.3\n";
my $dns = start_dns($zone);
my $smtp = start_smtp(listen => ['127.0.0.2', '127.0.0.3']);

my $d = start_savd(dns => $dns, smtp => $smtp, conf => {
    allow_networks => '127.0.0.2/32, 127.0.0.3/32' });
my $h = fields_ok('a fresh daemon is healthy', $d->query('HEALTH'),
    result => 'ok', status => 'ok', reasons => undef, cache => 'ok',
    last_success => -1, recent => 0, backed_off => 0,
    loop_lag_ms => qr/^\d+$/);
my $r = Savd::run_cmd([$check, '-s', $d->sock], timeout => 20);
is($r->{status}, 0, 'check_savd: OK');

fields_ok('a good callout', $d->query('SENDER <alice@ok.test>'),
    result => 'ok');
fields_ok('... shows as the last success', $d->query('HEALTH'),
    status => 'ok', recent => 1, last_success => qr/^[0-9]$/);

for my $i (1 .. 12) {
	fields_ok("SERVFAIL $i: defer dnsfail",
	    $d->query("SENDER <a\@sf$i.test>", timeout => 10),
	    result => 'defer', reason => 'dnsfail');
}
fields_ok('most recent lookups failed: critical', $d->query('HEALTH'),
    status => 'critical', reasons => qr/\bdns_failures\b/,
    dnsfail_pct => qr/^(9[0-9]|100)$/, recent => 13);
$r = Savd::run_cmd([$check, '-s', $d->sock], timeout => 20);
is($r->{status}, 2, 'check_savd: CRITICAL, exit 2');
like($r->{out}, qr/^SAVD CRITICAL - .*dns_failures/, '... and says why');

# A 421 makes savd back off from the host: HEALTH names it.
fields_ok('421 at RCPT: defer tempfail', $d->query('SENDER <r421@bo.test>'),
    result => 'defer', reason => 'tempfail', code => 421);
fields_ok('HEALTH lists the backed-off host', $d->query('HEALTH'),
    backed_off => 1, backoff => '127.0.0.3');
fields_ok('STATS counts the back-off', $d->query('STATS'),
    backoffs => 1, backed_off => 1);
$d->stop;

# A cache file that cannot be created: savd serves from memory and warns.
my $m = start_savd(dns => $dns, smtp => $smtp, conf => {
    cache_file => '/proc/savd-test/cache.tdb' });
fields_ok('cache file unusable: warning', $m->query('HEALTH'),
    status => 'warning', reasons => qr/\bcache_in_memory\b/,
    cache => 'memory');
fields_ok('... and savd still verifies', $m->query('SENDER <alice@ok.test>'),
    result => 'ok');
$r = Savd::run_cmd([$check, '-s', $m->sock], timeout => 20);
is($r->{status}, 1, 'check_savd: WARNING, exit 1');
done_testing();
