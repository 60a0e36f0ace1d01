#!/usr/bin/perl
# 26-dump-flush.t - the admin side of the cache (doc/protocol.md 3 and 3a,
# doc/cache-format.md, issue 4 item 3):
#
# - `savctl dump -C CACHE` lists every record (key, result, reason, code,
#   age, expires) while the daemon runs, and `--domain D` keeps only D's
#   address records and its domain record;
# - FLUSH ADDRESS / DOMAIN / ALL from root answer `result=ok flushed=N`,
#   counting domain records too, and the records are gone from the dump;
# - a peer that is not an admin gets `result=error reason=denied code=530`
#   and nothing is removed; listing its user in admin_users (SIGHUP)
#   lets it flush.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

my $zone = <<'EOF';
mx.a.test          A    127.0.0.2
mx.c.test          A    127.0.0.3
dump.test          MX   10 mx.a.test
other.test         MX   10 mx.a.test
catch.test         MX   10 mx.c.test
mix.test           MX   10 mx.a.test
EOF

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1,
    listen => ['127.0.0.2', '127.0.0.3'],
    profile => { '127.0.0.3' => 'catchall' });
# The user running the tests is an admin (root is one anyway).
my $me = (getpwuid($<))[0];
my %conf = (positive_ttl => '1h', negative_ttl => '30m',
    domain_positive_ttl => '2h', socket_mode => '0666',
    answer_timeout => '8s', admin_users => "root, $me");
my $d = start_savd(dns => $dns, smtp => $smtp, conf => \%conf);
my $cache = "$d->{conf}{cache_file}";


# savctl dump: { status, lines => [...], by => { key => fields } }.
sub dump_cache {
	my (@args) = @_;
	my $r = run_cmd([savctl_bin(), 'dump', '-C', $cache, @args],
	    timeout => 10);
	my @l = grep { length } split(/\n/, $r->{out});
	my %by = map { my $f = parse_response($_); ($f->{key} // '') => $f }
	    @l;
	return { status => $r->{status}, err => $r->{err}, lines => \@l,
	    by => \%by };
}

sub keys_of { [sort keys %{ $_[0]{by} }] }

# ---------------------------------------------------------------- fill

my %verify = (
	'alice@dump.test' => [ok => 'accepted'],
	'bob@dump.test' => [ok => 'accepted'],
	'unknown1@dump.test' => [fail => 'rejected'],
	'carol@other.test' => [ok => 'accepted'],
	'x@catch.test' => [unknown => 'catchall'],
	'alice@mix.test' => [ok => 'accepted'],
);
for my $a (sort keys %verify) {
	my ($res, $why) = @{ $verify{$a} };
	fields_ok("verify $a: $res $why", $d->query("SENDER <$a>",
	    timeout => 10), result => $res, reason => $why);
}

# The refused probes leave "not a catch-all" records (n:) too.
my @all = sort('a:alice@dump.test', 'a:bob@dump.test',
    'a:unknown1@dump.test', 'a:carol@other.test', 'd:catch.test',
    'a:alice@mix.test', 'n:dump.test', 'n:other.test', 'n:mix.test');
my $dmp;
wait_for(sub { $dmp = dump_cache(); @{ $dmp->{lines} } >= @all }, 5);

# ---------------------------------------------------------------- dump

is($dmp->{status}, 0, 'dump: exit 0 while savd runs') or diag($dmp->{err});
is_deeply(keys_of($dmp), \@all, 'dump: one line per record, keyed a:/d:')
    or diag(join("\n", @{ $dmp->{lines} }));
is(scalar(@{ $dmp->{lines} }), scalar(@all), 'dump: no duplicate lines');
my @missing = grep { my $f = $_; grep { !defined $f->{$_} }
    qw(key result reason code age expires) } values %{ $dmp->{by} };
ok(!@missing, 'dump: every line has key result reason code age expires')
    or diag(join("\n", @{ $dmp->{lines} }));

my %want = (
	'a:alice@dump.test' => ['ok', 'accepted', 250, 3600],
	'a:unknown1@dump.test' => ['fail', 'rejected', 550, 1800],
	'd:catch.test' => ['unknown', 'catchall', 250, 7200],
);
for my $k (sort keys %want) {
	my ($res, $why, $code, $ttl) = @{ $want{$k} };
	my $f = $dmp->{by}{$k} // {};
	my $got = join(' ', map { $f->{$_} // '-' } qw(result reason code));
	is($got, "$res $why $code", "dump: $k is $res $why $code");
	ok(($f->{age} // -1) =~ /^\d+$/ && $f->{age} <= 30,
	    "dump: $k age is a small number of seconds")
	    or diag("age=" . ($f->{age} // '(absent)'));
	ok(($f->{expires} // '') =~ /^\d+$/ && $f->{expires} <= $ttl
	    && $f->{expires} >= $ttl - 30,
	    "dump: $k expires in about $ttl s")
	    or diag("expires=" . ($f->{expires} // '(absent)'));
}

my $dd = dump_cache('--domain', 'dump.test');
is($dd->{status}, 0, 'dump --domain: exit 0');
is_deeply(keys_of($dd), ['a:alice@dump.test', 'a:bob@dump.test',
    'a:unknown1@dump.test', 'n:dump.test'],
    'dump --domain dump.test: only its records')
    or diag(join("\n", @{ $dd->{lines} }));
is_deeply(keys_of(dump_cache('--domain', 'catch.test')), ['d:catch.test'],
    'dump --domain catch.test: its domain record');
is_deeply(keys_of(dump_cache('--domain', 'CATCH.test')), ['d:catch.test'],
    'dump --domain: the domain is case-insensitive');
is_deeply(keys_of(dump_cache('--domain', 'none.test')), [],
    'dump --domain of an unknown domain: nothing');
is_deeply(keys_of(dump_cache('--domain', 'test')), [],
    'dump --domain: a parent domain does not match');

fields_ok('PING after the dumps', $d->query('PING'), reason => 'pong');

# ---------------------------------------------------------------- non-admin

SKIP: {
	skip 'not root: cannot test a non-admin peer', 6 if $> != 0;
	chmod(0711, $d->dir);
	my $as_nobody = sub {
		my ($line) = @_;
		return as_user('nobody', sub { $d->query($line) // 'none' }, 8);
	};
	fields_ok('non-admin: PING works', $as_nobody->('PING'),
	    result => 'ok', reason => 'pong');
	for my $req ('FLUSH ALL', 'FLUSH DOMAIN dump.test',
	    'FLUSH ADDRESS alice@dump.test') {
		fields_ok("non-admin: $req denied", $as_nobody->($req),
		    result => 'error', reason => 'denied', code => 530);
	}
	is_deeply(keys_of(dump_cache()), \@all,
	    'non-admin: nothing was flushed');

	# admin_users lists nobody: after SIGHUP, nobody may flush.
	my $before = () = $d->log_text =~ /configuration reloaded/g;
	$d->write_conf({ %conf, admin_users => "root, $me, nobody" });
	$d->hup;
	wait_for(sub { my $n = () = $d->log_text =~ /configuration reloaded/g;
	    $n > $before }, 5);
	fields_ok('admin_users nobody: FLUSH ADDRESS allowed',
	    $as_nobody->('FLUSH ADDRESS carol@other.test'),
	    result => 'ok', flushed => 1);
}
SKIP: {
	skip 'root only', 1 unless $> == 0;
	ok(wait_for(sub { !dump_cache()->{by}{'a:carol@other.test'} }, 3),
	    'admin_users nobody: the record is gone from the dump');
}
if ($> != 0) {
	fields_ok('FLUSH ADDRESS carol@other.test (own uid is admin?)',
	    $d->query('FLUSH ADDRESS carol@other.test'), result => 'ok');
}

# ---------------------------------------------------------------- flush

fields_ok('FLUSH ADDRESS of a cached address: flushed=1',
    $d->query('FLUSH ADDRESS alice@dump.test'), result => 'ok', flushed => 1);
fields_ok('FLUSH ADDRESS of an address not cached: flushed=0',
    $d->query('FLUSH ADDRESS nobody@dump.test'), result => 'ok',
    flushed => 0);
ok(wait_for(sub { my $k = dump_cache()->{by};
    !$k->{'a:alice@dump.test'} && $k->{'a:bob@dump.test'} }, 3),
    'FLUSH ADDRESS: that record is gone, its neighbour stays');
my $n0 = $smtp->sessions_to('127.0.0.2');
fields_ok('after FLUSH ADDRESS the address is verified again',
    $d->query('SENDER <alice@dump.test>', timeout => 10),
    result => 'ok', source => 'callout');
is($smtp->sessions_to('127.0.0.2'), $n0 + 1, '... with a new SMTP session');

fields_ok('FLUSH DOMAIN dump.test: its 3 address records and n:',
    $d->query('FLUSH DOMAIN dump.test'), result => 'ok', flushed => 4);
ok(wait_for(sub { !@{ dump_cache('--domain', 'dump.test')->{lines} } }, 3),
    'FLUSH DOMAIN: no dump.test record left');

# mix.test moves to a catch-all host while its "not a catch-all" record is
# fresh: no probe goes out (doc/protocol.md 4c), and FLUSH DOMAIN counts the
# domain-level record with the address records.
$dns->reload($zone =~ s/^mix\.test .*$/mix.test MX 10 mx.c.test/mr);
fields_ok('mix.test: the new host is asked without a probe',
    $d->query('SENDER <bob@mix.test>', timeout => 10),
    result => 'ok', reason => 'accepted');
is(scalar(grep { /^RCPT.*mix\.test/ } $smtp->commands('127.0.0.3')), 1,
    'mix.test: one RCPT, no probe, while n:mix.test is fresh');
ok(wait_for(sub { @{ dump_cache('--domain', 'mix.test')->{lines} } == 3 },
    3), 'mix.test has two address records and a not-catch-all record')
    or diag(join("\n", @{ dump_cache('--domain', 'mix.test')->{lines} }));
fields_ok('FLUSH DOMAIN mix.test counts every record: flushed=3',
    $d->query('FLUSH DOMAIN mix.test'), result => 'ok', flushed => 3);
ok(wait_for(sub { !@{ dump_cache('--domain', 'mix.test')->{lines} } }, 3),
    'FLUSH DOMAIN mix.test: every record gone');

my $sc = run_cmd([savctl_bin(), '-s', $d->sock, 'flush', 'domain',
    'catch.test']);
is($sc->{status}, 0, 'savctl flush domain: exit 0') or diag($sc->{err});
fields_ok('savctl flush domain catch.test: flushed=1', $sc->{out},
    result => 'ok', flushed => 1);

# Refill: two address records and a domain record for FLUSH ALL.
for my $a ('carol@other.test', 'unknown2@other.test', 'y@catch.test') {
	ok(defined $d->query("SENDER <$a>", timeout => 10), "verify $a");
}
my $left;
wait_for(sub { $left = dump_cache(); @{ $left->{lines} } >= 4 }, 3);
is_deeply(keys_of($left), ['a:carol@other.test', 'a:unknown2@other.test',
    'd:catch.test', 'n:other.test'], 'records before FLUSH ALL')
    or diag(join("\n", @{ $left->{lines} }));
my $nleft = @{ $left->{lines} };
fields_ok("FLUSH ALL: flushed=$nleft", $d->query('FLUSH ALL'),
    result => 'ok', flushed => $nleft);
ok(wait_for(sub { !@{ dump_cache()->{lines} } }, 3),
    'FLUSH ALL: the dump is empty');
fields_ok('FLUSH ALL on an empty cache: flushed=0', $d->query('FLUSH ALL'),
    result => 'ok', flushed => 0);
is($d->stats->{cache_entries}, 0, 'STATS cache_entries is 0');
fields_ok('savd still serves', $d->query('PING'), reason => 'pong');
is($d->stop, 0, 'savd stops cleanly');

done_testing();
