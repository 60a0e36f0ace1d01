#!/usr/bin/perl
# 11-limits.t - the limits of doc/protocol.md 2: request length,
# max_pipeline, max_clients, client_idle_timeout, many simultaneous
# clients, and clients that misbehave (never write, never read, write a
# megabyte without a line end) without slowing anybody else down.
use strict;
use warnings;

# 2000 clients need more than 2000 descriptors in this process and in
# savd (which inherits the limit): raise the soft limit once by re-running
# under sh's ulimit, since core Perl has no setrlimit.
use POSIX ();
BEGIN {
	my $want = 4200;
	my $have = POSIX::sysconf(POSIX::_SC_OPEN_MAX()) // 0;
	if ($have < $want && !$ENV{SAVD_ULIMIT_TRIED}) {
		$ENV{SAVD_ULIMIT_TRIED} = 1;
		exec('sh', '-c', "ulimit -n $want 2>/dev/null || "
		    . 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"',
		    $^X, $0, @ARGV);
	}
}

use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM SHUT_WR);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

my $PONG = qr/^result=ok\b.*\breason=pong\b/;

my $NCLIENTS = 2000;
my $fdmax = POSIX::sysconf(POSIX::_SC_OPEN_MAX()) // 1024;
$NCLIENTS = $fdmax - 200 if $fdmax - 200 < $NCLIENTS;

my $zone = join('', map { "p$_.slow.test TIMEOUT\nq$_.slow.test TIMEOUT\n" }
    1 .. 8);
my $dns = start_dns($zone);
my $d = start_savd(dns => $dns, conf => {
	skip_domains => 'skip.test',
	max_pipeline => 4,
	max_clients => $NCLIENTS + 100,
});


# ---------------------------------------------------------------- length

# SENDER, padding blanks, the address: exactly $n bytes.
sub request_of {
	my ($n) = @_;
	my $addr = ' <a@skip.test>';
	return 'SENDER' . (' ' x ($n - 6 - length $addr)) . $addr;
}
is(length(request_of(1024)), 1024, 'test request is 1024 bytes');

has_fields($d->query(request_of(1024)), 'result=unknown reason=skipped',
    'a 1024-byte request is answered');
like(scalar($d->raw(request_of(1024) . "\r\n")), qr/reason=skipped/,
    '... also with CRLF (the CR does not count)');

my $c = $d->session;
$c->send(request_of(1025) . "\nPING\n");
has_fields($c->readline(3), 'result=error reason=toolong code=500',
    'a 1025-byte request: error toolong code=500');
my ($eof, $rest) = $c->wait_eof(3);
ok($eof, '... then the server closes the connection');
is($rest, '', '... without answering the request behind it');
$c->close;

# A megabyte without a line end: the server must stop reading, answer
# toolong and close, not buffer it all.
$c = $d->session;
my $s = $c->socket;
$s->blocking(0);
my $chunk = 'x' x 65536;
my ($sent, $end) = (0, time + 5);
while ($sent < (1 << 20) && time < $end) {
	IO::Select->new($s)->can_write(0.2) or next;
	my $n = syswrite($s, $chunk);
	if (!defined $n) {
		next if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
		last;           # EPIPE/ECONNRESET: the server closed, fine
	}
	$sent += $n;
}
$s->blocking(1);
my $line = $c->readline(5);
has_fields($line, 'result=error reason=toolong', '1 MiB line: error toolong');
($eof) = $c->wait_eof(5);
ok($eof, '... and the connection is closed');
$c->close;
like($d->query('PING') // '', $PONG, '... savd still answers');

# ---------------------------------------------------------------- pipeline

my @l = $d->lines(('PING') x 200, { timeout => 10 });
is(scalar(@l), 200, 'max_pipeline=4: 200 pipelined PINGs get 200 answers');
is(scalar(grep { $_ =~ $PONG } @l), 200,
    '... all of them pongs');

# Eight slow verifications, max_pipeline=4: at most four may start before
# the first answers are written (the DNS server never answers them).
my @req = map { "SENDER <a\@p$_.slow.test> timeout=1" } 1 .. 8;
$c = $d->session;
$c->send(join('', map { "$_\n" } @req, 'PING'));
$c->shutdown_write;
sleep(0.6);
my %asked = map { (split / /)[0] => 1 } grep { /^p\d\.slow\.test / }
    $dns->queries;
cmp_ok(scalar(keys %asked), '<=', 4,
    'max_pipeline=4: no more than 4 requests started at once');
my @ans;
while (defined(my $x = $c->readline(10))) {
	push @ans, $x;
}
$c->close;
is(scalar(@ans), 9, '... yet all 9 requests are answered');
is(scalar(grep { /^result=(ok|fail|defer|unknown) / } @ans[0 .. 7]), 8,
    '... the eight SENDERs first');
like($ans[8] // '', $PONG, '... and the PING last');

# ---------------------------------------------------------------- stuck clients

my $silent = $d->session;
my $partial = $d->session;
$partial->send('SEND');
my $flood = $d->session;
{
	my $fs = $flood->socket;
	$fs->blocking(0);
	my $end = time + 0.5;
	while (time < $end) {
		my $n = syswrite($fs, "PING\n" x 1000);
		last if !defined $n && $! != EINTR;
	}
}
my $t0 = time;
like($d->query('PING', timeout => 1) // '', $PONG,
    'a silent, a half-line and a never-reading client block nobody');
cmp_ok(time - $t0, '<', 1, '... PING answered within 1 s');
$_->close for $silent, $partial, $flood;

# ---------------------------------------------------------------- 2000 clients

my $label = $NCLIENTS == 2000 ? '2000'
    : "$NCLIENTS (descriptor limit $fdmax)";
my @cl;
for (1 .. $NCLIENTS) {
	my $x = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $d->sock)
	    or last;
	push @cl, $x;
}
is(scalar(@cl), $NCLIENTS, "$label clients connected at once");
Savd::write_all($_, "PING\n", 2) for @cl;
my $pongs = 0;
my $deadline = time + 20;
for my $x (@cl) {
	my $r = Savd::Client->new($x)->readline(
	    $deadline - time > 0 ? $deadline - time : 0.01);
	$pongs++ if defined $r && $r =~ $PONG;
}
is($pongs, scalar(@cl), "... each of them gets its pong");
$t0 = time;
like($d->query('PING', timeout => 1) // '', $PONG,
    "with $label clients open a new PING is answered");
cmp_ok(time - $t0, '<', 1, '... within 1 s');
my $st = $d->stats;
cmp_ok($st->{clients} // 0, '>=', scalar(@cl), '... STATS counts them');
close($_) for @cl;
@cl = ();

# ---------------------------------------------------------------- max_clients

# Never more than max_clients served at once.  Whether the server refuses
# a newcomer or makes room by closing an idle client is its choice; a
# client with a request in flight must never be dropped for a newcomer.
my $d5 = start_savd(dns => $dns, conf => { max_clients => 5 });
wait_for(sub { ($d5->stats->{clients} // 0) == 1 }, 5);

my @five = map { $d5->session } 1 .. 5;
$five[$_]->send("SENDER <a\@q" . ($_ + 1) . ".slow.test> timeout=2\n")
    for 0 .. 4;
# Busy means savd has read the requests: wait until it asked DNS for all.
ok(wait_for(sub {
	my %n = map { (split / /)[0] => 1 } grep { /^q\d\.slow\.test / }
	    $dns->queries;
	keys(%n) == 5;
}, 5), 'five busy clients: their verifications started');
my $sixth = $d5->session;
$sixth->send("PING\n") if $sixth;
my $r6 = $sixth ? $sixth->readline(1) : undef;
ok(!defined $r6 || $r6 !~ /pong/,
    'max_clients=5, five busy clients: a sixth is not served')
    or diag("sixth got: $r6");
my $answered = grep {
	($_->readline(5) // '') =~ /^result=(ok|fail|defer|unknown) /
} @five;
is($answered, 5, '... and none of the five busy clients is dropped');
$_->close for @five, ($sixth // ());
ok(wait_for(sub { ($d5->query('PING', timeout => 1) // '') =~ $PONG },
    5, 0.1), '... once they leave, a new client is served');

wait_for(sub { ($d5->stats->{clients} // 0) == 1 }, 5);
@five = map { $d5->session } 1 .. 5;
my $served = grep {
	$_->send("PING\n");
	($_->readline(3) // '') =~ $PONG;
} @five;
is($served, 5, 'max_clients=5: five idle clients served');
$sixth = $d5->session;
$sixth->send("PING\n") if $sixth;
$r6 = $sixth ? $sixth->readline(2) : undef;
my $six_ok = defined $r6 && $r6 =~ $PONG ? 1 : 0;
my $alive = grep {
	$_->send("PING\n");
	($_->readline(2) // '') =~ $PONG;
} @five;
is($alive + $six_ok, 5, 'a sixth client is refused, waits, or replaces an '
    . "idle one: never six at once (five: $alive, sixth: $six_ok)");
$_->close for @five, ($sixth // ());
is($d5->stop, 0, 'max_clients daemon exits 0');

# ---------------------------------------------------------------- idle

my $di = start_savd(dns => $dns, conf => { client_idle_timeout => '2s' });
my $idle = $di->session;
my $half = $di->session;
$half->send('PIN');
my $busy = $di->session;
my %closed;
my $busy_ok = 1;
$t0 = time;
while (time - $t0 < 5 && keys(%closed) < 2) {
	for ([idle => $idle], [half => $half]) {
		my ($name, $cl) = @$_;
		next if $closed{$name};
		my ($e) = $cl->wait_eof(0.05);
		$closed{$name} = time - $t0 if $e;
	}
	if (!$busy->eof && time - $t0 < 3.5) {
		$busy->send("PING\n");
		$busy_ok = 0 unless ($busy->readline(1) // '') =~ /pong/;
	}
	sleep(0.3);
}
ok(defined $closed{idle}, 'client_idle_timeout=2s: a silent client is closed');
cmp_ok($closed{idle} // 99, '>=', 1.5, '... not before 2 s');
cmp_ok($closed{idle} // 99, '<=', 4.5, '... nor much after');
ok(defined $closed{half}, '... a client that sent half a line is closed too');
ok($busy_ok && !$busy->eof, '... a client sending requests stays connected');
$_->close for $idle, $half, $busy;
is($di->stop, 0, 'idle-timeout daemon exits 0');

is($d->stop, 0, 'savd exits 0 at the end');
done_testing();
