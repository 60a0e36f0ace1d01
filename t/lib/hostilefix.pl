#!/usr/bin/perl
# hostilefix.pl - SMTP servers that misbehave, one behaviour per listening
# loopback address, for t/33-hostile-servers.t.
#
# Usage: hostilefix.pl --port-file FILE [--port N] --listen IP=BEHAVIOUR ...
#
# Every address is bound to the same port (savd has one smtp_port).  Each
# connection is served by a forked child that plays its script with
# blocking I/O and ends within a few seconds; nothing here connects
# anywhere, and everything exits when the parent test process is gone.
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::IP;
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER);
use Time::HiRes qw(sleep time);

my (@listen, %opt);
$opt{port} = 0;
GetOptions(\%opt, 'listen=s' => \@listen, 'port=i', 'port-file=s')
    or die "usage: see the head of $0\n";

my $G = "220 hostile.test ESMTP\r\n";
my $E = "250 hostile.test\r\n";
my $OK = "250 2.1.0 Ok\r\n";

# Read one command line (bounded wait); '' on EOF or timeout.
sub cmd {
	my ($s, $t) = @_;
	my $sel = IO::Select->new($s);
	my $line = '';
	my $end = time + ($t // 5);
	while (time < $end) {
		last unless $sel->can_read($end - time);
		my $n = sysread($s, my $c, 1);
		return $line unless $n;
		$line .= $c;
		return $line if $c eq "\n";
	}
	return $line;
}

sub put { my ($s, $b) = @_; local $SIG{PIPE} = 'IGNORE'; syswrite($s, $b) }

# Greeting, EHLO and MAIL answered normally; the caller plays the rest.
sub upto_rcpt {
	my ($s) = @_;
	put($s, $G); cmd($s); put($s, $E); cmd($s); put($s, $OK); cmd($s);
}

sub rst {
	my ($s) = @_;
	setsockopt($s, SOL_SOCKET, SO_LINGER, pack('ii', 1, 0));
	close($s);
}

# The behaviours: each gets the accepted socket.
my %B = (
	earlytalker => sub { put($_[0], $G . "250 early\r\n"); cmd($_[0]);
	    put($_[0], $E); cmd($_[0]); put($_[0], $OK); cmd($_[0]);
	    put($_[0], "250 ok\r\n"); cmd($_[0]) },
	doublegreet => sub { put($_[0], $G . $G); cmd($_[0]); put($_[0], $E);
	    cmd($_[0]); put($_[0], $OK); cmd($_[0]); put($_[0], $OK);
	    cmd($_[0]) },
	drip => sub { for my $c (split //, $G) { put($_[0], $c); sleep 0.3 } },
	endless => sub { for (1 .. 2000) { put($_[0], "220-more\r\n") or last;
	    sleep 0.005 } },
	megaline => sub { put($_[0], '220 ' . ('x' x (1 << 20))); sleep 3 },
	nulcode => sub { put($_[0], "2\0000 hostile\r\n"); sleep 3 },
	nultext => sub { upto_rcpt($_[0]); put($_[0], "250 o\0k\r\n");
	    cmd($_[0]); },
	barecr => sub { put($_[0], "220 a\r250 b\r250 c\r"); sleep 3 },
	rstmid => sub { put($_[0], $G); cmd($_[0]); put($_[0], "250-half");
	    rst($_[0]) },
	rstrcpt => sub { upto_rcpt($_[0]); put($_[0], "25"); rst($_[0]) },
	neverreads => sub { put($_[0], $G); sleep 4 },
	tlsgarbage => sub { put($_[0], "\x16\x03\x01\x00\x31\x02\x00\x00\x2d"
	    . "\x03\x03" . ("\xaa" x 32) . "\r\n"); sleep 3 },
	greet421 => sub { put($_[0], "421 4.3.2 closing\r\n") },
	ehlo421 => sub { put($_[0], $G); cmd($_[0]);
	    put($_[0], "421 4.7.0 too many connections\r\n") },
	mail421 => sub { put($_[0], $G); cmd($_[0]); put($_[0], $E);
	    cmd($_[0]); put($_[0], "421 4.7.0 closing\r\n") },
	rcpt421 => sub { upto_rcpt($_[0]);
	    put($_[0], "421 4.7.0 closing\r\n") },
	code999 => sub { put($_[0], "999 what\r\n"); sleep 3 },
	code2x0 => sub { put($_[0], $G); cmd($_[0]); put($_[0], "2x0 hi\r\n");
	    sleep 3 },
	code354 => sub { upto_rcpt($_[0]); put($_[0], "354 go ahead\r\n");
	    sleep 3 },
	ehlo220 => sub { put($_[0], $G); cmd($_[0]); put($_[0], $G);
	    sleep 3 },
	allatonce => sub { put($_[0], $G . $E . $OK . $OK . $OK); sleep 3 },
	dropgreet => sub { close($_[0]) },
	codechange => sub { put($_[0], $G); cmd($_[0]);
	    put($_[0], "250-a\r\n550 b\r\n"); sleep 3 },
	longline => sub { put($_[0], $G); cmd($_[0]);
	    put($_[0], '250 ' . ('y' x 5000) . "\r\n"); sleep 3 },
	emptyline => sub { put($_[0], "\r\n"); sleep 3 },
	manylines => sub { put($_[0], $G); cmd($_[0]);
	    put($_[0], "250-x\r\n" x 20000); sleep 3 },
	stallrcpt => sub { upto_rcpt($_[0]); sleep 5 },
	binary => sub { put($_[0], join('', map { chr } 0 .. 255) . "\r\n");
	    sleep 3 },
	# Not garbage: these must still work.
	ehlo70 => sub { put($_[0], $G); cmd($_[0]);
	    put($_[0], join('', map { "250-EXT$_\r\n" } 1 .. 69) . "250 LAST\r\n");
	    cmd($_[0]); put($_[0], $OK); cmd($_[0]); put($_[0], "250 ok\r\n");
	    cmd($_[0]); put($_[0], "550 no such user\r\n"); cmd($_[0]);
	    put($_[0], "221 bye\r\n") },
	bareLF => sub { put($_[0], "220 lf\n"); cmd($_[0]); put($_[0], "250 lf\n");
	    cmd($_[0]); put($_[0], "250 ok\n"); cmd($_[0]); put($_[0], "250 ok\n");
	    cmd($_[0]); put($_[0], "550 no\n"); cmd($_[0]); put($_[0], "221 b\n") },
);

my (%by_fd, @socks);
my $port = $opt{port};
for my $l (@listen) {
	my ($ip, $b) = $l =~ /^(.*?)=(.*)$/ or die "$0: bad --listen $l\n";
	die "$0: unknown behaviour '$b'\n" unless $B{$b};
	my $s = IO::Socket::IP->new(LocalHost => $ip, LocalPort => $port,
	    Listen => 64, ReuseAddr => 1) or die "$0: $ip:$port: $!\n";
	$port = $s->sockport;
	$by_fd{ fileno $s } = $b;
	push @socks, $s;
}
if (my $f = $opt{'port-file'}) {
	open(my $fh, '>', "$f.tmp") or die "$f.tmp: $!\n";
	print $fh "$port\n";
	close($fh);
	rename("$f.tmp", $f) or die "rename $f: $!\n";
}
$SIG{CHLD} = 'IGNORE';
my $ppid = getppid();
my $sel = IO::Select->new(@socks);
while (getppid() == $ppid) {
	for my $l ($sel->can_read(0.25)) {
		my $c = $l->accept or next;
		my $pid = fork;
		if (defined $pid && $pid == 0) {
			alarm 20;
			$B{ $by_fd{ fileno $l } }->($c);
			exit 0;
		}
		close($c);
	}
}
