#!/usr/bin/perl
# 14-privileges.t - start-up as root the way a package runs savd: the
# socket gets socket_mode and socket_group, the daemon drops to `user`
# after binding and still writes its cache; a stale socket file is
# replaced, a live one is not stolen, and a non-socket is refused.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::stat;
use Time::HiRes qw(sleep);
use Savd qw(:all);

plan skip_all => 'start-up as root: needs root' unless $> == 0;
my @pw = getpwnam('nobody') or plan skip_all => 'no user nobody';
my $group = getgrgid((getpwnam('nobody'))[3]) // 'nogroup';
my $gid = getgrnam($group);

my $zone = "ok.test MX 10 mx.ok.test\nmx.ok.test A 127.0.0.2\n";
my $dns = start_dns($zone);
my $smtp = start_smtp(listen => ['127.0.0.2']);

my $dir = tempdir();
chmod(0755, $dir);
mkdir("$dir/state") or die;
chown($pw[2], $pw[3], "$dir/state");
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
    user => 'nobody', socket_mode => '0660', socket_group => $group,
    cache_file => "$dir/state/cache.tdb" });

my $st = stat($d->sock);
is($st->mode & 07777, 0660, 'the socket has socket_mode 0660');
is($st->gid, $gid, "the socket belongs to socket_group $group");
my ($uids) = Savd::slurp("/proc/" . $d->pid . "/status") =~ /^Uid:\s+(.*)$/m;
is($uids, join("\t", ($pw[2]) x 4), 'savd runs as nobody (every uid)');
like($d->query('PING') // '', qr/reason=pong/, 'and answers root');
fields_ok('a verification as nobody', $d->query('SENDER <alice@ok.test>'),
    result => 'ok', reason => 'accepted');
fields_ok('its cache is a file nobody can write', $d->query('HEALTH'),
    cache => 'ok');
ok(-f "$dir/state/cache.tdb" && stat("$dir/state/cache.tdb")->uid == $pw[2],
    'the cache file belongs to nobody');

# A second daemon on the same socket must not steal it.
my $second = Savd::run_cmd([savd_bin(), '-f', '-c', $d->conf_file,
    '-o', "pid_file=$dir/second.pid"], timeout => 10);
isnt($second->{status}, 0, 'a second savd on a live socket exits non-zero');
like($second->{err}, qr/another savd is listening/, '... and says why');
like($d->query('PING') // '', qr/reason=pong/, 'the first one still serves');

# kill -9 leaves the socket file behind: the next start replaces it.  The
# cache commits its batch every 100 ms: give it that time first.
sleep(0.3);
$d->signal('KILL');
$d->wait_exit(5);
ok(-S $d->sock, 'after kill -9 the socket file is left behind');
my $again = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
    cache_file => "$dir/state/cache.tdb" });
like($again->query('PING') // '', qr/reason=pong/,
    'a new savd replaces the stale socket and serves');
like(Savd::slurp($again->log_file), qr/removed stale socket/, '... and logs it');
fields_ok('the cache written as nobody is read back',
    $again->query('SENDER <alice@ok.test>'), result => 'ok',
    source => 'cache');
$again->stop;

# A socket path that is a regular file is never removed.
Savd::spit("$dir/notasocket", "precious\n");
my $bad = Savd::run_cmd([savd_bin(), '-f', '-c', $again->conf_file,
    '-o', "socket=$dir/notasocket"], timeout => 10);
isnt($bad->{status}, 0, 'a socket path that is a regular file: exit non-zero');
like($bad->{err}, qr/exists and is not a socket/, '... with a clear message');
is(Savd::slurp("$dir/notasocket"), "precious\n", '... and the file is intact');
done_testing();
