#!/usr/bin/perl
# 24-cache.t - the TDB cache as a user sees it (doc/protocol.md 4a,
# issue 4): a repeated query makes no second SMTP session and says
# source=cache with age=; positive and negative TTLs expire; domain records
# (catch-all, refuses <>, no such domain, null MX, blocks us) answer other
# addresses of the domain without a callout; a fail or a defer never
# replaces a fresh ok; the cache survives a restart; FLUSH ADDRESS, DOMAIN
# and ALL remove records, count them, and the next query calls out again;
# a garbage or truncated cache file is moved aside and savd serves.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

my $zone = <<'EOF';
ok.test            MX   10 mx.ok.test
flush.test         MX   10 mx.ok.test
ttl.test           MX   10 mx.ok.test
mx.ok.test         A    127.0.0.2
nonull.test        MX   10 mx.nonull.test
mx.nonull.test     A    127.0.0.3
catchall.test      MX   10 mx.catchall.test
mx.catchall.test   A    127.0.0.7
blocked.test       MX   10 mx.blocked.test
mx.blocked.test    A    127.0.0.8
nullmx.test        MX   0 .
EOF

my $dir = tempdir();
chmod(0711, $dir);      # let nobody reach the socket (FLUSH as non-admin)
my $dns = start_dns($zone, dir => $dir);
my %smtpopt = (dir => $dir, tag => 1,
    listen => ['127.0.0.2', '127.0.0.3', '127.0.0.7', '127.0.0.8'],
    profile => {
	'127.0.0.3' => 'rejectnull',
	'127.0.0.7' => 'catchall',
	'127.0.0.8' => 'greet554',
    });
my $smtp = start_smtp(%smtpopt);
my %conf = (
	answer_timeout => '8s',
	command_timeout => '2s',
	connect_timeout => '2s',
	domain_rate => '1000/1m',
	socket_mode => '0666',
);
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => \%conf);


sub ask { $d->query($_[0], timeout => 10) }

# Number of RCPT TO:<$addr> the current SMTP fixture received.
sub rcpts {
	my ($addr) = @_;
	return scalar grep { lc $_ eq lc "RCPT TO:<$addr>" } $smtp->commands;
}

sub nsess { scalar @{ $smtp->sessions } }

my $AGE = qr/^\d+$/;

# ---------------------------------------------------------------- repeat

fields_ok('first query: a callout', ask('RECIPIENT <alice@ok.test>'),
    result => 'ok', reason => 'accepted', source => 'callout', age => undef);
my $n = nsess();
my $r = fields_ok('repeated query: from the cache, with age=',
    ask('RECIPIENT <alice@ok.test>'), result => 'ok', reason => 'accepted',
    code => 250, source => 'cache', age => $AGE,
    mx => 'mx.ok.test[127.0.0.2]');
cmp_ok($r->{age} // 99, '<=', 2, '... a small age');
is(nsess(), $n, '... and no second SMTP session');
is(rcpts('alice@ok.test'), 1, '... one RCPT TO:<alice@ok.test> in all');
fields_ok('a fail is cached too', ask('RECIPIENT <unknown1@ok.test>'),
    result => 'fail', reason => 'rejected', source => 'callout');
fields_ok('... and answered from the cache',
    ask('RECIPIENT <unknown1@ok.test>'), result => 'fail',
    reason => 'rejected', code => 550, source => 'cache', age => $AGE,
    text => qr/User unknown/);
is(rcpts('unknown1@ok.test'), 1, '... one RCPT in all');
fields_ok('cache=no: a callout even though the answer is cached',
    ask('RECIPIENT <unknown1@ok.test> cache=no'), result => 'fail',
    reason => 'rejected', source => 'callout');
is(rcpts('unknown1@ok.test'), 2, '... a second RCPT');

# ---------------------------------------------------------------- domains

$n = nsess();
fields_ok('catch-all domain: the first address is probed',
    ask('RECIPIENT <alice@catchall.test>'), result => 'unknown',
    reason => 'catchall', source => 'callout');
is(nsess() - $n, 1, '... in one session');
for my $a ('bob@catchall.test', 'zed@CatchAll.test') {
	fields_ok("... another address there ($a): the domain record answers",
	    ask("RECIPIENT <$a>"), result => 'unknown', reason => 'catchall',
	    code => 250, source => 'cache', age => $AGE);
}
fields_ok('... a SENDER there too', ask('SENDER <carol@catchall.test>'),
    result => 'unknown', reason => 'catchall', source => 'cache');
is(nsess() - $n, 1, '... no new session for any of them');

$n = nsess();
fields_ok('domain refusing <>: first address', ask('SENDER <alice@nonull.test>'),
    result => 'fail', reason => 'nullsender', source => 'callout');
fields_ok('... another address there: the domain record answers',
    ask('SENDER <bob@nonull.test>'), result => 'fail', reason => 'nullsender',
    code => 550, source => 'cache', age => $AGE);
is(nsess() - $n, 1, '... no new session');
fields_ok('... but a RECIPIENT with from= is not about <>: a callout',
    ask('RECIPIENT <carol@nonull.test> from=<x@y.test>'), result => 'ok',
    reason => 'accepted', source => 'callout');

$n = nsess();
fields_ok('domain that blocks us: first address',
    ask('SENDER <alice@blocked.test>'), result => 'unknown',
    reason => 'blocked', code => 554, source => 'callout');
fields_ok('... another address there: the domain record answers',
    ask('SENDER <bob@blocked.test>'), result => 'unknown',
    reason => 'blocked', code => 554, source => 'cache', age => $AGE);
is(nsess() - $n, 1, '... no new session');

for my $c (['nosuch.test', 'nxdomain'], ['nullmx.test', 'nullmx']) {
	my ($dom, $why) = @$c;
	fields_ok("$why: first address", ask("SENDER <alice\@$dom>"),
	    result => 'fail', reason => $why, source => 'dns');
	my $q = scalar $dns->queries($dom);
	fields_ok("... another address there: the domain record answers",
	    ask("SENDER <bob\@$dom>"), result => 'fail', reason => $why,
	    source => 'cache', age => $AGE);
	is(scalar $dns->queries($dom), $q, '... without a DNS query');
}

# ---------------------------------------------------------------- no overwrite

fields_ok('bob is ok', ask('RECIPIENT <bob@ok.test>'), result => 'ok',
    source => 'callout');
$smtp->stop;
fields_ok('SMTP down, cache=no: the callout gives defer',
    ask('RECIPIENT <bob@ok.test> cache=no'), result => 'defer',
    reason => 'unreachable', source => 'callout');
fields_ok('... the defer did not replace the fresh ok',
    ask('RECIPIENT <bob@ok.test>'), result => 'ok', reason => 'accepted',
    source => 'cache');
$smtp = start_smtp(%smtpopt, port => $smtp->port,
    users => [grep { $_ ne 'bob' } @Savd::DEFAULT_USERS]);
fields_ok('bob unknown now, cache=no: the callout gives fail',
    ask('RECIPIENT <bob@ok.test> cache=no'), result => 'fail',
    reason => 'rejected', source => 'callout');
is(rcpts('bob@ok.test'), 1, '... the fixture did see that RCPT');
fields_ok('... the fail did not replace the fresh ok',
    ask('RECIPIENT <bob@ok.test>'), result => 'ok', reason => 'accepted',
    source => 'cache');

# ---------------------------------------------------------------- restart

is($d->stop, 0, 'savd stops (exit 0)');
$d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => \%conf);
$n = nsess();
fields_ok('after a restart: ok from the cache',
    ask('RECIPIENT <alice@ok.test>'), result => 'ok', reason => 'accepted',
    source => 'cache', age => $AGE);
fields_ok('... a fail from the cache', ask('RECIPIENT <unknown1@ok.test>'),
    result => 'fail', reason => 'rejected', source => 'cache');
fields_ok('... a domain record from the cache',
    ask('RECIPIENT <dan@catchall.test>'), result => 'unknown',
    reason => 'catchall', source => 'cache');
is(nsess(), $n, '... and no SMTP session');

# ---------------------------------------------------------------- flush

SKIP: {
	skip 'FLUSH needs root (admin_users = root)', 17 if $> != 0;

	SKIP: {
		skip 'no user nobody', 2 unless defined getpwnam('nobody');
		my $l = as_user('nobody', sub { $d->query('FLUSH ALL') }, 10);
		fields_ok('FLUSH ALL as nobody: denied', $l, result => 'error',
		    reason => 'denied', code => 530);
		fields_ok('... nothing was removed',
		    ask('RECIPIENT <alice@ok.test>'), result => 'ok',
		    source => 'cache');
	}

	fields_ok('FLUSH ADDRESS of a cached address: flushed=1',
	    $d->query('FLUSH ADDRESS <alice@ok.test>'), result => 'ok',
	    flushed => 1);
	fields_ok('... again: flushed=0',
	    $d->query('FLUSH ADDRESS alice@ok.test'), result => 'ok',
	    flushed => 0);
	fields_ok('... the next query calls out', ask('RECIPIENT <alice@ok.test>'),
	    result => 'ok', reason => 'accepted', source => 'callout');
	fields_ok('... and the unknown one is still cached',
	    ask('RECIPIENT <unknown1@ok.test>'), result => 'fail',
	    source => 'cache');

	for my $a (qw(alice carol dan)) {
		ask("RECIPIENT <$a\@flush.test>");
	}
	fields_ok('three addresses at flush.test cached',
	    ask('RECIPIENT <carol@flush.test>'), result => 'ok',
	    source => 'cache');
	my $l = $d->query('FLUSH DOMAIN Flush.Test');
	fields_ok('FLUSH DOMAIN: removes them all', $l, result => 'ok',
	    flushed => qr/^[34]$/);
	fields_ok('... the next query there calls out',
	    ask('RECIPIENT <alice@flush.test>'), result => 'ok',
	    source => 'callout');
	fields_ok('... other domains are untouched',
	    ask('RECIPIENT <alice@ok.test>'), result => 'ok', source => 'cache');

	$l = $d->query('FLUSH DOMAIN catchall.test');
	fields_ok('FLUSH DOMAIN of the catch-all domain: its records go',
	    $l, result => 'ok', flushed => qr/^[1-9]\d*$/);
	$n = nsess();
	fields_ok('... the next address there calls out',
	    ask('RECIPIENT <erin@catchall.test>'), result => 'unknown',
	    reason => 'catchall', source => 'callout');
	is(nsess() - $n, 1, '... one new session');

	$l = $d->query('FLUSH ALL');
	$r = fields_ok('FLUSH ALL: ok flushed=N', $l, result => 'ok',
	    flushed => qr/^\d+$/);
	cmp_ok($r->{flushed} // 0, '>=', 8, '... N counts every record');
	fields_ok('... FLUSH ALL again: flushed=0', $d->query('FLUSH ALL'),
	    result => 'ok', flushed => 0);
	fields_ok('... the next query calls out',
	    ask('RECIPIENT <unknown1@ok.test>'), result => 'fail',
	    reason => 'rejected', source => 'callout');
	fields_ok('... domain records are gone too',
	    ask('SENDER <zoe@blocked.test>'), result => 'unknown',
	    reason => 'blocked', source => 'callout');
}

# ---------------------------------------------------------------- TTL

$d->stop;
my $dt = start_savd(dns => $dns, smtp => $smtp, conf => { %conf,
    positive_ttl => '2s', negative_ttl => '2s' });
fields_ok('positive_ttl=2s: a callout', $dt->query('RECIPIENT <alice@ttl.test>',
    timeout => 10), result => 'ok', source => 'callout');
fields_ok('negative_ttl=2s: a callout',
    $dt->query('RECIPIENT <unknown2@ttl.test>', timeout => 10),
    result => 'fail', source => 'callout');
fields_ok('... ok from the cache at once',
    $dt->query('RECIPIENT <alice@ttl.test>'), result => 'ok',
    source => 'cache');
fields_ok('... fail from the cache at once',
    $dt->query('RECIPIENT <unknown2@ttl.test>'), result => 'fail',
    source => 'cache');
sleep(3);
fields_ok('... ok: after the TTL, a new callout',
    $dt->query('RECIPIENT <alice@ttl.test>', timeout => 10), result => 'ok',
    reason => 'accepted', source => 'callout');
fields_ok('... fail: after the TTL, a new callout',
    $dt->query('RECIPIENT <unknown2@ttl.test>', timeout => 10),
    result => 'fail', reason => 'rejected', source => 'callout');
is(rcpts('alice@ttl.test'), 2, '... two RCPTs for the ok address');
is(rcpts('unknown2@ttl.test'), 2, '... two RCPTs for the failed one');
$dt->stop;

# ---------------------------------------------------------------- bad files

# A cache file that is not a TDB, and a good one cut in half: savd moves
# it aside with a log line, starts with a fresh cache and serves.
my $good = slurp("$dir/cache.tdb");
ok(length($good) > 1000, 'the first daemon left a cache file');
for my $c (['garbage', join('', map { chr(int(rand(256))) } 1 .. 8192)],
    ['truncated', substr($good, 0, int(length($good) / 2))],
    ['empty header', "\0" x 4096]) {
	my ($what, $bytes) = @$c;
	my $bd = tempdir();
	open(my $fh, '>', "$bd/cache.tdb") or die "$bd/cache.tdb: $!";
	print $fh $bytes;
	close($fh);
	my $db = eval { start_savd(dir => $bd, dns => $dns, smtp => $smtp,
	    conf => \%conf) };
	ok($db, "$what cache file: savd starts") or diag($@);
	next unless $db;
	like($db->log_text, qr/moved aside/, '... and logs that it moved it aside');
	my @aside = glob("$bd/cache.tdb.*");
	ok(@aside == 1 && slurp($aside[0]) eq $bytes,
	    '... the old bytes are kept next to it') or diag("@aside");
	fields_ok('... and it serves a verification',
	    $db->query('RECIPIENT <carol@ok.test>', timeout => 10),
	    result => 'ok', reason => 'accepted', source => 'callout');
	$db->stop;
	$db = start_savd(dir => $bd, dns => $dns, smtp => $smtp, conf => \%conf);
	fields_ok('... into a fresh cache that works after a restart',
	    $db->query('RECIPIENT <carol@ok.test>'), result => 'ok',
	    source => 'cache');
	$db->stop;
}

done_testing();
