#!/usr/bin/perl
# 13-emfile.t - out of file descriptors: accept fails with EMFILE, and the
# daemon neither spins on the listening socket nor stops answering.
#
# savd runs under a hard descriptor limit of 48 (a wrapper script sets it)
# and 120 idle clients connect; then a PING must be answered within a
# second and the daemon must stay nearly idle.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM);
use Savd qw(:all);

my $dir = tempdir();
my $real = savd_bin();
Savd::spit("$dir/savd-limited", "#!/bin/sh\nulimit -n 48 || exit 99\n"
    . "exec '$real' \"\$@\"\n");
chmod(0755, "$dir/savd-limited");
local $ENV{SAVD} = "$dir/savd-limited";

my $d = start_savd(dir => $dir, conf => { max_clients => 1000,
    client_idle_timeout => '60s' });

sub cpu_ticks {
	my $stat = Savd::slurp("/proc/" . $d->pid . "/stat") // '';
	my @f = split(/ /, (split(/\) /, $stat, 2))[1] // '');
	return ($f[11] // 0) + ($f[12] // 0);           # utime + stime
}

my @idle;
for (1 .. 120) {
	my $c = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $d->sock)
	    or last;
	push @idle, $c;
}
is(scalar(@idle), 120, '120 clients connected (the backlog holds the rest)');
sleep(0.5);
like(Savd::slurp($d->log_file), qr/accept: Too many open files/,
    'savd ran out of descriptors and said so');

my $t0 = time;
my $r = $d->query('PING', timeout => 1);
like($r // '', qr/^result=ok reason=pong/, 'PING is answered while out of descriptors');
cmp_ok(time - $t0, '<', 1, '... within 1 s');

my $hz = 100;           # USER_HZ on Linux
my $before = cpu_ticks();
sleep(2);
my $used = (cpu_ticks() - $before) / $hz;
cmp_ok($used, '<', 0.5, "the loop does not spin: ${used} s of CPU in 2 s");

close($_) for @idle;
ok(wait_for(sub { ($d->query('PING', timeout => 1) // '') =~ /pong/ }, 5),
    'after the clients leave, savd serves as before');
is($d->stop, 0, 'savd stops cleanly');
done_testing();
