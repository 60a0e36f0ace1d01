#!/usr/bin/perl
# 15-hostile-clients.t - hostile input (issue 9 items 1, 6, 7): a client
# that keeps writing after QUIT or after a toolong answer, or never reads
# its answers, holds a bounded amount of savd's memory and still gets its
# answers in order; SIGHUP in savd's first milliseconds does not kill it;
# a configuration path that is a FIFO blocks neither `savd -t` nor a
# reload.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use IO::Select;
use POSIX ();
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

# Growth of savd's resident set that a single client may cause.  Bounded
# buffers need well under 1 MB; the defect grew by hundreds of MB.
my $RSS_SLACK_KB = 48 * 1024;
my $FLOOD_SECS = 2.5;
my $FLOOD_MAX = 768 * 1024 * 1024;      # stop the flood there anyway

my $dns = start_dns(<<'EOF');
stall1.test TIMEOUT
stall2.test TIMEOUT
EOF

sub rss_kb {
	my ($pid) = @_;
	my $st = slurp("/proc/$pid/status") // '';
	return $st =~ /^VmRSS:\s+(\d+)\s+kB/m ? $1 : 0;
}

# Write $chunk again and again, without ever reading, for $secs (or until
# $FLOOD_MAX bytes); returns (bytes written, peak savd RSS in kB).
sub flood {
	my ($d, $c, $chunk, $secs) = @_;
	my $s = $c->socket;
	my $sel = IO::Select->new($s);
	my ($done, $peak, $next) = (0, rss_kb($d->pid), 0);
	my $end = time + $secs;
	while (time < $end && $done < $FLOOD_MAX) {
		if (time >= $next) {
			my $r = rss_kb($d->pid);
			$peak = $r if $r > $peak;
			$next = time + 0.05;
		}
		next unless $sel->can_write(0.05);
		my $n = syswrite($s, $chunk);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
			last;
		}
		$done += $n;
	}
	my $r = rss_kb($d->pid);
	return ($done, $r > $peak ? $r : $peak);
}

# A pending request, then $stop (QUIT or a toolong line), then megabytes.
sub flood_after {
	my ($name, $domain, $stop, $want_stop) = @_;
	my $d = start_savd(dns => $dns);
	my $base = rss_kb($d->pid);
	my $c = $d->session;
	$c->socket->blocking(0);
	$c->send("SENDER <a\@$domain> timeout=4\n$stop");
	ok(wait_for(sub { scalar $dns->queries($domain) }, 5),
	    "$name: the first request is pending (DNS asked)");
	my ($bytes, $peak) = flood($d, $c, "PING\n" x 13107, $FLOOD_SECS);
	diag(sprintf('%s: wrote %.1f MB; savd VmRSS %d kB before, peak %d kB',
	    $name, $bytes / 1048576, $base, $peak));
	cmp_ok($peak - $base, '<', $RSS_SLACK_KB,
	    "$name: savd's memory stays bounded while the client floods");
	has_fields($c->readline(8), 'result=defer reason=inprogress',
	    "$name: the pending answer still arrives first");
	has_fields($c->readline(3), $want_stop, "$name: then $want_stop");
	my ($eof) = $c->wait_eof(5);
	ok($eof, "$name: then savd closes the connection");
	$c->close;
	has_fields($d->query('PING'), 'result=ok reason=pong',
	    "$name: savd still answers others");
	is($d->stop, 0, "$name: savd exits 0");
}

flood_after('after QUIT', 'stall1.test', "QUIT\n", 'result=ok reason=bye');
flood_after('after toolong', 'stall2.test', ('x' x 2000) . "\n",
    'result=error reason=toolong');

# A client that sends PINGs and never reads: answers must not pile up.
{
	my $d = start_savd(dns => $dns);
	my $base = rss_kb($d->pid);
	my $c = $d->session;
	$c->socket->blocking(0);
	my ($bytes, $peak) = flood($d, $c, "PING\n" x 13107, $FLOOD_SECS);
	diag(sprintf('never reads: wrote %.1f MB; savd VmRSS %d kB before, '
	    . 'peak %d kB', $bytes / 1048576, $base, $peak));
	cmp_ok($peak - $base, '<', $RSS_SLACK_KB,
	    'a client that never reads: unread answers stay bounded');
	has_fields($c->readline(3), 'result=ok reason=pong',
	    '... and its answers are there when it reads');
	# Every request it wrote is answered, in full, once it reads.
	$c->shutdown_write;
	my ($eof, $rest) = $c->wait_eof(20);
	ok($eof, '... and after its half-close savd closes');
	my $pongs = 1 + (() = $rest =~ /^result=ok reason=pong\b[^\n]*\n/mg);
	is($pongs, int($bytes / 5), '... after answering every PING');
	$c->close;
	has_fields($d->query('PING'), 'result=ok reason=pong',
	    '... savd still answers others');
	is($d->stop, 0, '... savd exits 0');
}

# ---------------------------------------------------------------- SIGHUP

# SIGHUP as soon as the socket or pid file exists: the default action
# (terminate) must never apply.
my ($survived, $tries) = (0, 20);
for my $i (1 .. $tries) {
	my $d = start_savd(dns => $dns, wait => 0);
	my ($sock, $pidf) = ($d->sock, $d->dir . '/savd.pid');
	my $end = time + 10;
	1 until -e $sock || -e $pidf || time > $end;
	$d->hup;
	my $up = wait_for(sub {
		return 'dead' if !$d->alive;
		my $r = $d->query('PING', timeout => 1);
		return defined $r && $r =~ /reason=pong/ ? 'up' : 0;
	}, 10, 0.05) || 'timeout';
	if ($up eq 'up') {
		$survived++;
	} else {
		diag("try $i: savd $up, status " . ($d->{status} // '?'));
	}
	$d->stop;
}
is($survived, $tries, "SIGHUP at start-up: savd survives $tries of $tries");

# ---------------------------------------------------------------- FIFO

my $dir = tempdir();
my $fifo = "$dir/fifo.conf";
POSIX::mkfifo($fifo, 0600) or die "mkfifo: $!";
my $t0 = time;
my $r = run_cmd([savd_bin(), '-t', '-c', $fifo], timeout => 5);
ok(defined $r->{status} && $r->{status} != 0,
    'savd -t -c FIFO exits non-zero (does not block)');
cmp_ok(time - $t0, '<', 3, '... quickly');
like($r->{err} // '', qr/\Q$fifo\E: not a regular file/,
    '... with "FILE: not a regular file"');
$r = run_cmd([savd_bin(), '-t', '-c', $dir], timeout => 5);
like($r->{err} // '', qr/\Q$dir\E: not a regular file/,
    'savd -t -c DIRECTORY: "not a regular file" too');

# A running savd whose configuration becomes a FIFO: SIGHUP logs the
# error, keeps the old configuration, and the loop keeps running.
my $d = start_savd(dns => $dns, conf => { skip_domains => 'skip.test' });
my $conf = $d->conf_file;
rename($conf, "$conf.real") or die "rename: $!";
POSIX::mkfifo($conf, 0600) or die "mkfifo: $!";
$d->hup;
ok($d->wait_log(qr/reload failed.*\Q$conf\E: not a regular file/, 5),
    'SIGHUP with a FIFO as configuration: the error is logged');
has_fields($d->query('PING', timeout => 3), 'result=ok reason=pong',
    '... savd still answers PING');
has_fields($d->query('SENDER <a@skip.test>', timeout => 3),
    'result=unknown reason=skipped', '... with the old configuration');
unlink($conf);
rename("$conf.real", $conf);
is($d->stop(5), 0, '... and exits 0 on SIGTERM');

done_testing();
