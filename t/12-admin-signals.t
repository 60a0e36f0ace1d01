#!/usr/bin/perl
# 12-admin-signals.t - FLUSH and its permission check (SO_PEERCRED, uid 0
# or admin_users), SIGHUP reload (good and bad files), SIGTERM/SIGINT,
# the pid file, and the command line of doc/protocol.md 8 (-t, -o, -c).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my $PONG = qr/^result=ok\b.*\breason=pong\b/;

my $ROOT = $> == 0;
my $NOBODY = defined getpwnam('nobody');


my $dns = start_dns("term.test TIMEOUT\n");
my $conf = { skip_domains => 'skip.test', socket_mode => '0666' };
my $d = start_savd(dns => $dns, conf => $conf);
chmod(0711, $d->dir);   # let nobody reach the socket

# A request sent as user nobody; the response line.
sub as_nobody {
	my ($req) = @_;
	return as_user('nobody', sub {
		my $l = $d->query($req);
		return defined $l ? $l : 'NO ANSWER';
	}, 10);
}

# ---------------------------------------------------------------- pid file

like(slurp("$d->{dir}/savd.pid"), qr/^\Q$d->{pid}\E\s*$/,
    'pid_file holds the daemon\'s pid');

# ---------------------------------------------------------------- FLUSH

SKIP: {
	skip 'FLUSH as root needs root', 7 unless $ROOT;
	like($d->query('FLUSH ALL') // '', qr/^result=ok .*\bflushed=\d+\b/,
	    'FLUSH ALL as root: ok flushed=N');
	like($d->query('flush all') // '', qr/^result=ok .*\bflushed=\d+\b/,
	    'flush all in lower case');
	like($d->query('FLUSH DOMAIN skip.test') // '',
	    qr/^result=ok .*\bflushed=\d+\b/, 'FLUSH DOMAIN: ok flushed=N');
	like($d->query('FLUSH ADDRESS <a@skip.test>') // '',
	    qr/^result=ok .*\bflushed=\d+\b/, 'FLUSH ADDRESS: ok flushed=N');
	has_fields($d->query('FLUSH'), 'result=error reason=badrequest',
	    'FLUSH without an argument: badrequest');
	has_fields($d->query('FLUSH EVERYTHING'), 'result=error reason=badrequest',
	    'FLUSH EVERYTHING: badrequest');
	has_fields($d->query('FLUSH DOMAIN'), 'result=error reason=badrequest',
	    'FLUSH DOMAIN without a domain: badrequest');
}

SKIP: {
	skip 'switching to user nobody needs root', 4 unless $ROOT && $NOBODY;
	like(as_nobody('PING') // '', $PONG,
	    'an unprivileged client may PING');
	has_fields(as_nobody('FLUSH ALL'), 'result=error reason=denied code=530',
	    'FLUSH ALL as nobody: error denied code=530');
	has_fields(as_nobody('FLUSH DOMAIN skip.test'),
	    'result=error reason=denied', 'FLUSH DOMAIN as nobody: denied');
	has_fields(as_nobody('SENDER <a@skip.test>'),
	    'result=unknown reason=skipped', '... but may verify addresses');
}

# ---------------------------------------------------------------- SIGHUP

sub later {     # is later.test skipped?  (cache=no: ask the policy)
	my $r = parse_response($d->query(
	    'SENDER <a@later.test> cache=no timeout=2', timeout => 6));
	return ($r->{reason} // '') eq 'skipped';
}

ok(!later(), 'before reload: later.test is not skipped');
$d->write_conf({ %$conf, skip_domains => 'skip.test, later.test',
    admin_users => 'root, nobody' });
ok($d->hup, 'SIGHUP sent');
ok(wait_for(\&later, 8, 0.2), '... the new skip_domains applies');
SKIP: {
	skip 'switching to user nobody needs root', 1 unless $ROOT && $NOBODY;
	like(as_nobody('FLUSH ALL') // '', qr/^result=ok .*\bflushed=\d+/,
	    '... and nobody, now in admin_users, may FLUSH');
}

my $logsize = length $d->log_text;
$d->write_conf("# broken on purpose\nthis is not a key value line\n");
ok($d->hup, 'SIGHUP with a bad file');
ok(wait_for(sub { substr($d->log_text, $logsize) =~ /savd\.conf:2\b/ }, 5),
    '... the error is logged as file:line') or diag($d->log_text);
like($d->query('PING') // '', $PONG, '... savd keeps running');
ok(later(), '... with the old configuration');
SKIP: {
	skip 'switching to user nobody needs root', 1 unless $ROOT && $NOBODY;
	like(as_nobody('FLUSH ALL') // '', qr/^result=ok /,
	    '... admin_users of the old configuration too');
}

# ---------------------------------------------------------------- SIGTERM

my $c = $d->session;
$c->send("SENDER <a\@term.test> timeout=30\n");
ok(wait_for(sub { scalar $dns->queries('term.test') }, 5),
    'a verification is in flight (DNS asked)');
my $t0 = time;
$d->signal('TERM');
has_fields($c->readline(5), 'result=defer reason=inprogress',
    'SIGTERM answers the pending request defer inprogress');
cmp_ok(time - $t0, '<', 5, '... at once, not at its timeout');
is($d->wait_exit(5), 0, '... and savd exits 0');
$c->close;

my $d2 = start_savd(dns => $dns);
$d2->signal('INT');
is($d2->wait_exit(5), 0, 'SIGINT: savd exits 0');

# ---------------------------------------------------------------- -t, -o, -c

my $dir = tempdir();
my $savd = savd_bin();

sub write_file {
	my ($name, $text) = @_;
	open(my $fh, '>', "$dir/$name") or die "$dir/$name: $!";
	print $fh $text;
	close($fh);
	return "$dir/$name";
}

my $good = write_file('good.conf', <<"EOF");
# every kind of value
socket = $dir/savd.sock
pid_file = $dir/savd.pid
cache_file = $dir/cache.tdb
helo_name = savd.test
user =
nameservers = 127.0.0.1:53, [::1]:5353
allow_networks = 127.0.0.0/8,::1/128
skip_domains = skip.test,  *.skip.test
client_idle_timeout = 30s
positive_ttl = 7d
negative_ttl = 2h
tempfail_ttl = 5m
answer_timeout = 20
catchall_probe = no
max_clients = 100

# a blank line and a comment above
EOF
my $r = run_cmd([$savd, '-t', '-c', $good]);
is($r->{status}, 0, 'savd -t with a good file exits 0')
    or diag($r->{err});

my $bad = write_file('bad.conf', "# comment\nsocket = $dir/s\n"
    . "no_such_key = 1\n");
$r = run_cmd([$savd, '-t', '-c', $bad]);
isnt($r->{status} // 0, 0, 'unknown key: savd -t exits non-zero');
like($r->{err}, qr/\Q$bad\E:3: .*no_such_key/,
    '... "file:line: message" naming the key on stderr');

$bad = write_file('badval.conf', "socket = $dir/s\nmax_clients = lots\n");
$r = run_cmd([$savd, '-t', '-c', $bad]);
isnt($r->{status} // 0, 0, 'bad value: savd -t exits non-zero');
like($r->{err}, qr/\Q$bad\E:2: .*max_clients/, '... names file, line, key');

$bad = write_file('badtime.conf', "client_idle_timeout = 5x\n");
$r = run_cmd([$savd, '-t', '-c', $bad]);
isnt($r->{status} // 0, 0, 'bad time suffix: savd -t exits non-zero');
like($r->{err}, qr/\Q$bad\E:1: .*client_idle_timeout/, '... and says where');

$r = run_cmd([$savd, '-t', '-c', $good, '-o', 'max_clients=10']);
is($r->{status}, 0, '-o with a good key=value: exit 0') or diag($r->{err});
$r = run_cmd([$savd, '-t', '-c', $good, '-o', 'bogus_key=1']);
isnt($r->{status} // 0, 0, '-o with an unknown key: non-zero');
like($r->{err}, qr/bogus_key/, '... the error names the key');
$r = run_cmd([$savd, '-t', '-c', $good, '-o', 'max_clients=abc']);
isnt($r->{status} // 0, 0, '-o with a bad value: non-zero');
like($r->{err}, qr/max_clients/, '... the error names the key');

my $missing = "$dir/no/such/savd.conf";
$r = run_cmd([$savd, '-t', '-c', $missing]);
isnt($r->{status} // 0, 0, 'missing -c file: savd -t exits non-zero');
like($r->{err}, qr/\Q$missing\E/, '... and names the file');
$r = run_cmd([$savd, '-f', '-c', $missing], timeout => 5);
ok(defined $r->{status} && $r->{status} != 0,
    'missing -c file: savd -f exits non-zero at once');
$r = run_cmd([$savd, '-f', '-c', "$dir/bad.conf"], timeout => 5);
ok(defined $r->{status} && $r->{status} != 0,
    'bad file: savd -f exits non-zero at once');

# -o wins over the file.
my $d3 = start_savd(dns => $dns, conf => { skip_domains => 'file.test' },
    args => ['-o', 'skip_domains=ovr.test']);
has_fields($d3->query('SENDER <a@ovr.test>'), 'result=unknown reason=skipped',
    '-o skip_domains=... applies');
my $fr = parse_response($d3->query('SENDER <a@file.test> timeout=2',
    timeout => 6));
isnt($fr->{reason} // '', 'skipped', '... and replaces the file\'s value');
is($d3->stop, 0, '... daemon exits 0');

done_testing();
