#!/usr/bin/perl
# smtpfix.pl - scripted SMTP server for the functional tests.
#
# Listens on one or more loopback addresses, all on the same port (savd
# uses one smtp_port for every target, so behaviour is chosen per listening
# address), serves many clients at once without blocking, and logs every
# byte it receives and every reply.  It never connects anywhere and never
# outlives the test that started it: it exits on SIGTERM and as soon as its
# parent process is gone.
#
# Usage: smtpfix.pl --listen IP[:PORT] [--listen ...] [--port N]
#                   [--port-file FILE] [--log FILE] [--tag]
#                   [--profile IP=NAME[,NAME...]] [--users a,b,c] [--slow N]
#
# IPv6 addresses are written [::1] or [::1]:PORT.  A --listen without port
# uses --port (default 0).  Port 0: the first address gets a free port and
# every other address is bound to the same one; the port is written to
# --port-file.  --profile '*=NAME' applies to every address; profiles of an
# address add to those of '*'.  See t/lib/README.md for the profiles and
# the local-part rules.
#
# Log lines (appended, flushed per line; with --tag each line starts with
# "#N " where N numbers the connection):
#   CONNECT peerip:port -> localip     ([v6]:port -> v6 for IPv6)
#   C: <command line>    the line without its CRLF; other bytes escaped
#                        (\r \n \0 \\ \xHH): a bare-LF line ends in "\n"
#   P: <bytes>           bytes left without a line end at close
#   S: <reply line>      one per reply line, without CRLF
#   CLOSE
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::IP;
use IO::Select;
use IO::Handle;
use Socket qw(SOMAXCONN);
use Time::HiRes qw(time);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);

my (@listen, @profiles);
my %opt = (port => 0, slow => 3);
GetOptions(\%opt, 'listen=s' => \@listen, 'profile=s' => \@profiles,
    'port=i', 'port-file=s', 'log=s', 'tag', 'users=s', 'slow=f')
    or die "usage: see the head of $0\n";
die "$0: at least one --listen is required\n" unless @listen;

my $HOST = 'fixture.test';
my %users;
my $have_users = defined $opt{users};
%users = map { lc($_) => 1 } grep { length } split(/\s*,\s*/, $opt{users})
    if $have_users;

my %KNOWN = map { $_ => 1 } qw(default greet554 greet421 greetdelay greetas
    tarpit dropgreet garbage multiline noehlo blockhelo nopipelining
    rejectnull mail421 mail451 catchall drop-after-mail smtputf8);
# smtputf8: EHLO offers SMTPUTF8 (RFC 6531).  Without it, MAIL with the
# SMTPUTF8 parameter gets 555 5.5.4; with or without it, a non-ASCII
# address in a transaction not opened with SMTPUTF8 gets 553 5.6.7 (the
# replies of Postfix).
# Protocol and policy misbehaviours (t/29-verdicts.t):
#   doublegreet  the greeting is sent twice
#   allatonce    greeting, EHLO, MAIL and RCPT replies all sent at once
#   maxrcpt=N    452 4.5.3 to every RCPT after the first N of a transaction
#   noquit       QUIT is never answered
#   mailtls      530 5.7.0 Must issue a STARTTLS command first, to MAIL
#   drip         the greeting one byte every 0.4 s
$KNOWN{$_} = 1 for qw(doublegreet allatonce maxrcpt noquit mailtls drip);

# profiles: ip => { name => value }
my %prof;
for my $p (@profiles) {
	my ($ip, $list) = $p =~ /^(.*?)=(.*)$/ or die "$0: bad --profile $p\n";
	$ip = normip($ip);
	for my $item (split(/,/, $list)) {
		my ($k, $v) = split(/=/, $item, 2);
		die "$0: unknown profile '$k'\n" unless $KNOWN{lc $k};
		$prof{$ip}{lc $k} = $v // 1;
	}
}

my $logfh;
if (defined $opt{log}) {
	open($logfh, '>>', $opt{log}) or die "$0: $opt{log}: $!\n";
	$logfh->autoflush(1);
}

my ($stop) = (0);
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
$SIG{PIPE} = 'IGNORE';

my %listeners;          # fileno -> [socket, localip]
my $port = bind_all();
if ($opt{'port-file'}) {
	my $f = $opt{'port-file'};
	open(my $fh, '>', "$f.tmp") or die "$0: $f.tmp: $!\n";
	print $fh "$port\n";
	close($fh) or die "$0: $f.tmp: $!\n";
	rename("$f.tmp", $f) or die "$0: rename $f: $!\n";
}

my %conns;              # fileno -> connection hash
my $nconn = 0;
my $ppid = getppid();
my $rsel = IO::Select->new(map { $_->[0] } values %listeners);
my $wsel = IO::Select->new;
until ($stop) {
	exit 0 if getppid() != $ppid || getppid() == 1;
	my $wait = 0.25;
	for my $c (values %conns) {
		next unless $c->{wake};
		my $w = $c->{wake} - time;
		$wait = $w if $w < $wait;
	}
	$wait = 0 if $wait < 0;
	my ($r, $w) = IO::Select->select($rsel, $wsel, undef, $wait);
	for my $fh (@{ $r // [] }) {
		my $l = $listeners{ fileno $fh };
		if ($l) {
			accept_one($l);
		} elsif (my $c = $conns{ fileno $fh }) {
			read_conn($c);
		}
	}
	for my $fh (@{ $w // [] }) {
		my $c = $conns{ fileno $fh } or next;
		flush_conn($c);
	}
	my $now = time;
	for my $c (values %conns) {
		if ($c->{wake} && $c->{wake} <= $now) {
			my $cb = delete $c->{wakecb};
			$c->{wake} = 0;
			$cb->() if $cb;
		}
		process($c) if $conns{ $c->{fd} };
	}
}
exit 0;

sub normip {
	my $ip = lc shift;
	$ip =~ s/^\[(.*)\]$/$1/;
	return $ip;
}

sub split_listen {
	my ($spec) = @_;
	return (normip($1), $2) if $spec =~ /^\[([^\]]+)\](?::(\d+))?$/;
	return ($1, $2) if $spec =~ /^([^:]+)(?::(\d+))?$/;
	return (normip($spec), undef);  # bare IPv6
}

# Bind every --listen address on one port; with port 0, retry a few times
# if the port picked for the first address is taken on another.
sub bind_all {
	for my $try (1 .. 20) {
		my ($port, %ls, $fixed);
		for my $spec (@listen) {
			my ($ip, $p) = split_listen($spec);
			$fixed = 1 if $p || $opt{port};
			$p //= $port // $opt{port};
			my $s = IO::Socket::IP->new(LocalHost => $ip,
			    LocalPort => $p, Listen => SOMAXCONN,
			    ReuseAddr => 1, Blocking => 0);
			if (!$s) {
				die "$0: bind $ip:$p: $@\n"
				    if $fixed || $try == 20;
				%ls = ();
				last;
			}
			$port //= $s->sockport;
			$ls{ fileno $s } = [$s, $ip];
		}
		next unless keys %ls;
		%listeners = %ls;
		return $port;
	}
	die "$0: cannot bind every address on one port\n";
}

sub esc {
	my ($s) = @_;
	$s =~ s/([\\\x00-\x1f\x7f-\xff])/
	    $1 eq "\\" ? "\\\\" : $1 eq "\r" ? "\\r" : $1 eq "\n" ? "\\n"
	    : $1 eq "\0" ? "\\0" : sprintf("\\x%02X", ord $1)/ge;
	return $s;
}

sub logc {
	my ($c, $line) = @_;
	return unless $logfh;
	print $logfh ($opt{tag} ? "#$c->{id} " : '') . "$line\n";
}

sub has {
	my ($c, $name) = @_;
	return $c->{prof}{$name};
}

sub accept_one {
	my ($l) = @_;
	my $s = $l->[0]->accept or return;
	$s->blocking(0);
	my $peer = $s->peerhost;
	$peer = "[$peer]" if $peer =~ /:/;
	my $c = { fh => $s, fd => fileno($s), id => ++$nconn, in => '',
	    out => '', local => $l->[1], state => 'greet', wake => 0,
	    prof => { %{ $prof{'*'} // {} }, %{ $prof{ $l->[1] } // {} } } };
	$conns{ $c->{fd} } = $c;
	$rsel->add($s);
	logc($c, "CONNECT $peer:" . $s->peerport . " -> $l->[1]");
	if (has($c, 'dropgreet')) {
		close_conn($c);
	} elsif (has($c, 'tarpit')) {
		$c->{state} = 'tarpit';
	} elsif (my $d = has($c, 'greetdelay')) {
		$c->{wake} = time + $d;
		$c->{wakecb} = sub { greet($c) };
	} else {
		greet($c);
	}
}

sub greet {
	my ($c) = @_;
	$c->{state} = 'cmd';
	if (has($c, 'greet554')) {
		$c->{state} = 'refused';
		reply($c, "554 5.7.1 $HOST No SMTP service here");
	} elsif (has($c, 'greet421')) {
		reply($c, "421 4.3.2 $HOST Service not available");
		close_after($c);
	} elsif (has($c, 'garbage')) {
		$c->{state} = 'garbage';
		reply($c, 'SSH-2.0-OpenSSH_9.2p1 Debian-2');
	} elsif (my $name = has($c, 'greetas')) {
		reply($c, "220 $name ESMTP fixture");
	} elsif (has($c, 'drip')) {
		logc($c, "S: 220 $HOST ESMTP fixture (dripped)");
		drip($c, "220 $HOST ESMTP fixture\r\n");
	} elsif (has($c, 'doublegreet')) {
		reply($c, "220 $HOST ESMTP fixture", "220 $HOST ESMTP fixture");
	} elsif (has($c, 'allatonce')) {
		reply($c, "220 $HOST ESMTP fixture", "250 $HOST", '250 2.1.0 Ok',
		    '250 2.1.5 Ok', '250 2.1.5 Ok', '250 2.1.5 Ok');
		$c->{state} = 'refused';
	} elsif (has($c, 'multiline')) {
		reply($c, "220-$HOST ESMTP fixture", '220-this is a multi-line',
		    '220 greeting');
	} else {
		reply($c, "220 $HOST ESMTP fixture");
	}
}

# Send $bytes one byte at a time, 0.4 s apart.
sub drip {
	my ($c, $bytes) = @_;
	return unless length $bytes && $conns{ $c->{fd} };
	$c->{out} .= substr($bytes, 0, 1, '');
	flush_conn($c);
	$c->{wake} = time + 0.4;
	$c->{wakecb} = sub { drip($c, $bytes) };
}

sub reply {
	my ($c, @lines) = @_;
	for my $l (@lines) {
		logc($c, "S: " . esc($l));
		$c->{out} .= "$l\r\n";
	}
	flush_conn($c);
}

# A one-line "CODE text" reply, made multi-line under the multiline profile.
sub reply_ml {
	my ($c, $code, $text) = @_;
	return reply($c, "$code $text") unless has($c, 'multiline');
	reply($c, "$code-$text", "$code-(multi-line reply)", "$code end");
}

sub flush_conn {
	my ($c) = @_;
	return unless $conns{ $c->{fd} };
	while (length $c->{out}) {
		my $n = syswrite($c->{fh}, $c->{out});
		if (!defined $n) {
			last if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
			return close_conn($c);
		}
		substr($c->{out}, 0, $n, '');
	}
	if (length $c->{out}) {
		$wsel->add($c->{fh});
	} else {
		$wsel->remove($c->{fh});
		close_conn($c) if $c->{closing};
	}
}

sub close_after {
	my ($c) = @_;
	$c->{closing} = 1;
	$c->{state} = 'closing';
	flush_conn($c);
}

sub close_conn {
	my ($c) = @_;
	return unless delete $conns{ $c->{fd} };
	logc($c, "P: " . esc($c->{in})) if length $c->{in};
	logc($c, 'CLOSE');
	$rsel->remove($c->{fh});
	$wsel->remove($c->{fh});
	close($c->{fh});
}

sub read_conn {
	my ($c) = @_;
	my $n = sysread($c->{fh}, my $buf, 65536);
	if (!defined $n) {
		return if $! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR;
		return close_conn($c);
	}
	if ($n == 0) {          # half-close: finish what was asked, then close
		$c->{eof} = 1;
		$rsel->remove($c->{fh});
		return process($c);
	}
	$c->{in} .= $buf;
	my $lines = 0;
	while ($c->{in} =~ s/^([^\n]*\n)//) {
		my $line = $1;
		$lines++;
		my $shown = $line;
		$shown =~ s/\r\n$//;
		logc($c, "C: " . esc($shown));
		$line =~ s/\r?\n$//;
		push @{ $c->{queue} }, $line;
	}
	logc($c, "! $lines lines in one read without PIPELINING")
	    if $lines > 1 && has($c, 'nopipelining') && $c->{state} eq 'cmd'
	    && !$c->{data};
	return close_conn($c) if length $c->{in} > 1 << 20;
	process($c);
}

# Handle queued command lines until the connection waits for something.
sub process {
	my ($c) = @_;
	while ($conns{ $c->{fd} } && !$c->{wake} && @{ $c->{queue} // [] }) {
		last if $c->{state} =~ /^(greet|tarpit|stalled|closing)$/;
		command($c, shift @{ $c->{queue} });
	}
	close_after($c) if $c->{eof} && $conns{ $c->{fd} } && !$c->{wake}
	    && !@{ $c->{queue} // [] } && $c->{state} !~ /^(stalled|tarpit)$/;
}

sub command {
	my ($c, $line) = @_;
	if ($c->{data}) {
		return unless $line eq '.';
		$c->{data} = 0;
		$c->{mail} = $c->{rcpts} = undef;
		return reply($c, '250 2.0.0 Ok: queued as FIXTURE');
	}
	if ($c->{state} eq 'garbage') {
		reply($c, 'Invalid SSH identification string.');
		return close_after($c);
	}
	my ($verb, $arg) = $line =~ /^\s*(\S*)\s*(.*)$/;
	$verb = uc($verb // '');
	if ($verb eq 'QUIT') {
		return if has($c, 'noquit');
		reply($c, "221 2.0.0 Bye");
		return close_after($c);
	}
	if ($c->{state} eq 'refused') {
		return reply($c, '503 5.5.1 Bad sequence of commands');
	}
	my %h = (EHLO => \&cmd_ehlo, HELO => \&cmd_helo, MAIL => \&cmd_mail,
	    RCPT => \&cmd_rcpt, DATA => \&cmd_data);
	return $h{$verb}->($c, $arg) if $h{$verb};
	if ($verb eq 'RSET') {
		$c->{mail} = $c->{rcpts} = undef;
		return reply($c, '250 2.0.0 Ok');
	}
	return reply($c, '250 2.0.0 Ok') if $verb eq 'NOOP';
	return reply($c, '252 2.0.0 Cannot VRFY user') if $verb eq 'VRFY';
	reply($c, '502 5.5.2 Error: command not recognized');
}

sub cmd_ehlo {
	my ($c, $arg) = @_;
	return reply($c, '550 5.7.1 Access denied') if has($c, 'blockhelo');
	return reply($c, '500 5.5.1 Command unrecognized: "EHLO"')
	    if has($c, 'noehlo');
	$c->{helo} = $arg;
	$c->{mail} = $c->{rcpts} = undef;
	my @ext = ('SIZE 10240000', 'ENHANCEDSTATUSCODES', '8BITMIME');
	unshift @ext, 'PIPELINING' unless has($c, 'nopipelining');
	push @ext, 'SMTPUTF8' if has($c, 'smtputf8');
	reply($c, "250-$HOST Hello $arg", (map { "250-$_" } @ext[0 .. $#ext - 1]),
	    "250 $ext[-1]");
}

sub cmd_helo {
	my ($c, $arg) = @_;
	return reply($c, '550 5.7.1 Access denied') if has($c, 'blockhelo');
	$c->{helo} = $arg;
	$c->{mail} = $c->{rcpts} = undef;
	reply($c, "250 $HOST");
}

sub cmd_mail {
	my ($c, $arg) = @_;
	return reply($c, '503 5.5.1 Error: send HELO/EHLO first')
	    unless defined $c->{helo};
	return reply($c, '503 5.5.1 Error: nested MAIL command')
	    if defined $c->{mail};
	my ($from, $params) = $arg =~ /^FROM:\s*<(.*?)>(.*)$/i
	    or return reply($c, '501 5.5.4 Syntax: MAIL FROM:<address>');
	my $utf8 = grep { uc eq 'SMTPUTF8' } split(' ', $params);
	return reply($c, '555 5.5.4 Unsupported option: SMTPUTF8')
	    if $utf8 && !has($c, 'smtputf8');
	return reply($c, '553 5.6.7 Must declare SMTPUTF8 to send unicode '
	    . 'address') if !$utf8 && $from =~ /[\x80-\xff]/;
	return reply($c, '530 5.7.0 Must issue a STARTTLS command first')
	    if has($c, 'mailtls');
	if (has($c, 'mail421')) {
		reply($c, '421 4.7.0 Try again later, closing connection');
		return close_after($c);
	}
	return close_conn($c) if has($c, 'drop-after-mail');
	return reply($c, '451 4.3.0 Temporary failure, try again later')
	    if has($c, 'mail451');
	return reply($c, '550 5.7.1 <>: Sender address rejected: '
	    . 'null sender not accepted') if $from eq '' && has($c, 'rejectnull');
	$c->{mail} = $from;
	$c->{nrcpt} = 0;
	$c->{utf8} = $utf8;
	reply($c, '250 2.1.0 Ok');
}

sub cmd_data {
	my ($c) = @_;
	return reply($c, '554 5.5.1 Error: no valid recipients')
	    unless $c->{rcpts};
	$c->{data} = 1;
	reply($c, '354 End data with <CR><LF>.<CR><LF>');
}

# Real servers' RCPT replies by local part (before the '-'): texts about us
# and about the mailbox that must not become `fail rejected`.
my %REAL;
BEGIN { %REAL = (
	spamhaus => '554 5.7.1 Service unavailable; Client host [127.0.0.1] '
	    . 'blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/127.0.0.1',
	relaydenied => '554 5.7.1 <ADDR>: Relay access denied',
	fullbox => '552 5.2.2 <ADDR>: Mailbox full',
	ptrless => '450 4.7.1 Client host rejected: cannot find your hostname, '
	    . '[127.0.0.1]',
); }

sub cmd_rcpt {
	my ($c, $arg) = @_;
	return reply($c, '503 5.5.1 Error: need MAIL command')
	    unless defined $c->{mail};
	my ($addr) = $arg =~ /^TO:\s*<(.*?)>/i
	    or return reply($c, '501 5.5.4 Syntax: RCPT TO:<address>');
	return reply($c, '553 5.6.7 Must declare SMTPUTF8 to send unicode '
	    . 'address') if !$c->{utf8} && $addr =~ /[\x80-\xff]/;
	my $local = $addr;
	$local =~ s/\@[^@]*$//;
	my $lc = lc $local;
	if (my $max = has($c, 'maxrcpt')) {
		return reply($c, '452 4.5.3 Error: too many recipients')
		    if ($c->{nrcpt} // 0) >= $max;
		$c->{nrcpt}++;
	}
	if (my $text = $REAL{ (split /-/, $lc)[0] }) {
		$text =~ s/ADDR/$addr/g;
		return reply($c, $text);
	}
	return rcpt_ok($c, $addr) if has($c, 'catchall');
	if ($lc =~ /^unknown/) {
		return reply_ml($c, 550, "5.1.1 <$addr>: Recipient address "
		    . 'rejected: User unknown');
	}
	return reply_ml($c, 451, '4.7.1 Greylisted, try again later')
	    if $lc =~ /^grey/;
	if ($lc =~ /^r421/) {
		reply($c, '421 4.7.0 Too many connections');
		return close_after($c);
	}
	if ($lc =~ /^r([245])(\d\d)/) {
		return reply_ml($c, "$1$2", "$1.0.0 Scripted reply $1$2");
	}
	if ($lc =~ /^slow/) {
		$c->{wake} = time + $opt{slow};
		$c->{wakecb} = sub { rcpt_ok($c, $addr) };
		return;
	}
	return reply($c, 'HTTP/1.1 400 Bad Request') if $lc =~ /^garbage/;
	return close_conn($c) if $lc =~ /^drop/;
	if ($lc =~ /^tarpit/) {
		$c->{state} = 'stalled';
		return;
	}
	if ($have_users && !$users{$lc}) {
		return reply_ml($c, 550, "5.1.1 <$addr>: Recipient address "
		    . 'rejected: User unknown');
	}
	rcpt_ok($c, $addr);
}

sub rcpt_ok {
	my ($c, $addr) = @_;
	$c->{rcpts}++;
	reply_ml($c, 250, '2.1.5 Ok');
}
