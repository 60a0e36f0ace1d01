# Savd.pm - helpers for savd's functional tests: temp dirs, the scripted DNS
# and SMTP fixtures, a savd started in the foreground with every path in a
# temp dir, protocol clients and response parsing.
#
# Every wait here is bounded.  Every process started here is killed when
# the test ends (END block), and only by the process that started it, so
# a forked child that exits never takes the fixtures down with it.
# See t/lib/README.md for the whole API.
package Savd;

use strict;
use warnings;
use Carp qw(croak);
use Cwd qw(abs_path);
use Errno qw(EAGAIN EWOULDBLOCK EINTR EINPROGRESS);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp ();
use IO::Handle;
use IO::Select;
use IO::Socket::INET;
use IO::Socket::IP;
use IO::Socket::UNIX;
use POSIX qw(WNOHANG);
use Socket qw(SOCK_STREAM SHUT_WR);
use Time::HiRes qw(time sleep);
use Test::More ();

our @EXPORT_OK = qw(tempdir free_port free_udp_port start_dns start_smtp
    start_savd parse_response fields_ok has_fields sessions_to smtp_sessions smtp_commands
    wait_for run_cmd as_user savd_bin savctl_bin slurp);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

our $LIB = abs_path(dirname(__FILE__));
our $TOP = abs_path("$LIB/../..");
our $DEFAULT_TIMEOUT = 10;

my $OWNER = $$;         # only this process reaps the children
our %CHILDREN;          # pid -> name, the processes we must reap

$SIG{PIPE} = 'IGNORE';

sub savd_bin { $ENV{SAVD} // "$TOP/src/savd" }
sub savctl_bin { $ENV{SAVCTL} // "$TOP/src/savctl" }

sub tempdir {
	return File::Temp::tempdir('savd-test-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$ENV{SAVD_KEEP});
}

sub free_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'tcp', Listen => 1, ReuseAddr => 1)
	    or croak "free_port: $!";
	return $s->sockport;
}

sub free_udp_port {
	my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
	    Proto => 'udp') or croak "free_udp_port: $!";
	return $s->sockport;
}

sub slurp {
	my ($file) = @_;
	open(my $fh, '<', $file) or return '';
	local $/;
	my $s = <$fh>;
	return $s // '';
}

sub spit {
	my ($file, $text) = @_;
	open(my $fh, '>', "$file.tmp") or croak "$file.tmp: $!";
	print $fh $text;
	close($fh) or croak "$file.tmp: $!";
	rename("$file.tmp", $file) or croak "rename $file: $!";
}

# Poll $cond every $step seconds until it returns true or $timeout passes;
# returns the condition's last value.
sub wait_for {
	my ($cond, $timeout, $step) = @_;
	my $end = time + ($timeout // $DEFAULT_TIMEOUT);
	while (1) {
		my $v = $cond->();
		return $v if $v;
		return $v if time >= $end;
		sleep($step // 0.05);
	}
}

# Start a child with stdout and stderr to $logfile; returns its pid.
sub spawn {
	my ($name, $cmd, $logfile, $env) = @_;
	my $pid = fork() // croak "fork: $!";
	if (!$pid) {
		%ENV = (%ENV, %{ $env // {} });
		open(STDIN, '<', '/dev/null');
		if (defined $logfile) {
			open(STDOUT, '>>', $logfile) or POSIX::_exit(126);
			open(STDERR, '>&', \*STDOUT) or POSIX::_exit(126);
		}
		exec(@$cmd) or POSIX::_exit(127);
	}
	$CHILDREN{$pid} = $name;
	return $pid;
}

# Wait (bounded) for a child; returns its wait status or undef on timeout.
sub reap {
	my ($pid, $timeout) = @_;
	my $status;
	wait_for(sub {
		my $r = waitpid($pid, WNOHANG);
		if ($r == $pid || $r < 0) {
			$status = $r == $pid ? $? : -1;
			delete $CHILDREN{$pid};
			return 1;
		}
		return 0;
	}, $timeout // $DEFAULT_TIMEOUT, 0.02);
	return $status;
}

sub kill_child {
	my ($pid, $timeout) = @_;
	return unless $CHILDREN{$pid};
	kill('TERM', $pid);
	my $st = reap($pid, $timeout // 3);
	return $st if defined $st;
	kill('KILL', $pid);
	return reap($pid, 3);
}

our @DAEMON_LOGS;       # savd logs, scanned for sanitizer reports at exit

# A savd built with -fsanitize=address,undefined reports memory errors,
# undefined behaviour and leaks in its log: any such report fails the test.
sub sanitizer_reports {
	my @bad;
	for my $log (@DAEMON_LOGS) {
		next unless -f $log;
		my $text = slurp($log);
		push @bad, "$log:\n$1" if $text =~
		    /((?:ERROR: (?:Address|Leak)Sanitizer|runtime error:)[^\n]*(?:\n.*){0,15})/;
	}
	return @bad;
}

END {
	if ($$ == $OWNER) {
		my @bad;
		{
			local $?;
			kill('TERM', $_) for keys %CHILDREN;
			my $end = time + 5;
			for my $pid (keys %CHILDREN) {
				my $left = $end - time;
				kill_child($pid, $left > 0.1 ? $left : 0.1);
			}
			@bad = sanitizer_reports();
		}
		if (@bad) {
			print STDERR "# sanitizer report from savd:\n# $_\n" for @bad;
			$? = 1 unless $?;
		}
	}
}

# Run a command to completion (bounded); returns { status => exit code
# (128+signal if killed, undef on timeout), out => stdout, err => stderr }.
sub run_cmd {
	my ($cmd, %o) = @_;
	my $dir = File::Temp->newdir;
	my ($of, $ef) = ("$dir/out", "$dir/err");
	my $pid = fork() // croak "fork: $!";
	if (!$pid) {
		%ENV = (%ENV, %{ $o{env} // {} });
		open(STDIN, '<', '/dev/null');
		open(STDOUT, '>', $of) or POSIX::_exit(126);
		open(STDERR, '>', $ef) or POSIX::_exit(126);
		exec(@$cmd) or POSIX::_exit(127);
	}
	$CHILDREN{$pid} = 'run_cmd';
	my $st = reap($pid, $o{timeout} // $DEFAULT_TIMEOUT);
	if (!defined $st) {
		kill_child($pid, 1);
	}
	return { status => !defined $st ? undef
	    : $st & 127 ? 128 + ($st & 127) : $st >> 8,
	    out => slurp($of), err => slurp($ef) };
}

# Run $code in a forked child with the uid/gid of $user; returns the string
# the code returned (undef when the child failed or timed out).
sub as_user {
	my ($user, $code, $timeout) = @_;
	my ($uid, $gid) = (getpwnam($user))[2, 3];
	croak "no user $user" unless defined $uid;
	pipe(my $r, my $w) or croak "pipe: $!";
	my $pid = fork() // croak "fork: $!";
	if (!$pid) {
		close($r);
		$( = $gid;
		$) = "$gid $gid";
		$< = $> = $uid;
		POSIX::_exit(125) if $> != $uid;
		my $v = eval { $code->() };
		print $w $v if defined $v;
		close($w);
		POSIX::_exit(defined $v ? 0 : 1);
	}
	close($w);
	$CHILDREN{$pid} = "as_user $user";
	my $out = read_all($r, $timeout // $DEFAULT_TIMEOUT);
	my $st = reap($pid, 2);
	kill_child($pid, 1) unless defined $st;
	return (defined $st && $st == 0) ? $out->{data} : undef;
}

# Read a handle until EOF or the deadline: { data, eof, elapsed }.
sub read_all {
	my ($fh, $timeout) = @_;
	my $start = time;
	my $end = $start + $timeout;
	my $sel = IO::Select->new($fh);
	my ($data, $eof) = ('', 0);
	while (1) {
		my $left = $end - time;
		last if $left <= 0;
		next unless $sel->can_read($left);
		my $n = sysread($fh, my $buf, 65536);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
			$eof = 1;       # reset by the peer counts as closed
			last;
		}
		if ($n == 0) {
			$eof = 1;
			last;
		}
		$data .= $buf;
	}
	return { data => $data, eof => $eof, elapsed => time - $start };
}

# "result=ok code=250 text=\"a \\\"b\\\"\"" -> { result => 'ok', ... }
sub parse_response {
	my ($line) = @_;
	return undef unless defined $line;
	$line =~ s/\r?\n\z//;
	my %h;
	while ($line =~ /\G\s*([A-Za-z0-9_.-]+)=("((?:[^"\\]|\\.)*)"|\S*)/gc) {
		my ($k, $v) = ($1, $2);
		if (defined $3) {
			$v = $3;
			$v =~ s/\\(.)/$1/g;
		}
		$h{$k} = $v;
	}
	return \%h;
}

# ---------------------------------------------------------------- asserting

# One assertion on a response line: each wanted field equal (a string),
# matching (a Regexp) or absent (undef).  Returns the parsed fields.
sub fields_ok {
	my ($name, $line, %want) = @_;
	my $r = parse_response($line) // {};
	my @bad = defined $line ? () : ('no answer');
	push @bad, 'text is not last and quoted' if defined $line
	    && $line =~ / text=/ && $line !~ / text="(?:[^"\\]|\\.)*"$/;
	for my $k (sort keys %want) {
		my ($w, $g) = ($want{$k}, $r->{$k});
		if (!defined $w) {
			push @bad, "$k should be absent" if defined $g;
			next;
		}
		push @bad, "$k=" . ($g // '(absent)') . ", want $w"
		    if !defined $g || (ref $w ? $g !~ $w : $g ne $w);
	}
	my $tb = Test::More->builder;
	$tb->ok(!@bad, $name) or $tb->diag('got: ' . ($line // '(no answer)')
	    . "\n" . join("\n", @bad));
	return $r;
}

# The same with the wanted fields written as "k=v k=v".
sub has_fields {
	my ($line, $want, $name) = @_;
	return fields_ok($name, $line, map { split(/=/, $_, 2) }
	    split(/ /, $want));
}

# ---------------------------------------------------------------- DNS

sub start_dns {
	my ($zone, %o) = @_;
	my $dir = $o{dir} // tempdir();
	my $n = ++$Savd::Fixture::count;
	my $self = bless { dir => $dir, zone => "$dir/dns$n.zone",
	    log => "$dir/dns$n.log", portfile => "$dir/dns$n.port",
	    stderr => "$dir/dns$n.err", gen => 0 }, 'Savd::DNS';
	spit($self->{zone}, $zone // '');
	open(my $t, '>>', $self->{log}) or croak "$self->{log}: $!";
	close($t);
	$self->{pid} = spawn('dnsfix', [$^X, "$LIB/dnsfix.pl",
	    '--zone', $self->{zone}, '--addr', $o{addr} // '127.0.0.1',
	    '--port', $o{port} // 0, '--port-file', $self->{portfile},
	    '--log', $self->{log}], $self->{stderr});
	$self->_wait_port('dnsfix');
	return $self;
}

# ---------------------------------------------------------------- SMTP

our @DEFAULT_USERS = qw(alice bob carol postmaster user);

sub start_smtp {
	my (%o) = @_;
	my $dir = $o{dir} // tempdir();
	my $n = ++$Savd::Fixture::count;
	my $self = bless { dir => $dir, log => "$dir/smtp$n.log",
	    portfile => "$dir/smtp$n.port", stderr => "$dir/smtp$n.err" },
	    'Savd::SMTP';
	my @cmd = ($^X, "$LIB/smtpfix.pl", '--port-file', $self->{portfile},
	    '--log', $self->{log}, '--port', $o{port} // 0);
	push @cmd, '--listen', $_ for @{ $o{listen} // ['127.0.0.2'] };
	for my $ip (sort keys %{ $o{profile} // {} }) {
		my $p = $o{profile}{$ip};
		push @cmd, '--profile', "$ip=" . (ref $p ? join(',', @$p) : $p);
	}
	push @cmd, '--users', join(',', @{ $o{users} // \@DEFAULT_USERS })
	    unless $o{accept_all};
	push @cmd, '--slow', $o{slow} if defined $o{slow};
	push @cmd, '--tag' if $o{tag};
	open(my $t, '>>', $self->{log}) or croak "$self->{log}: $!";
	close($t);
	$self->{pid} = spawn('smtpfix', \@cmd, $self->{stderr});
	$self->_wait_port('smtpfix');
	return $self;
}

# Parse an smtpfix log into sessions: [{ id, peer, local, lines => [...],
# closed }], lines being "C: ...", "S: ...", "P: ...", "! ...".  Exact with
# --tag; without it, lines go to the most recent CONNECT.
sub smtp_sessions {
	my ($log) = @_;
	$log = $log->{log} if ref $log;
	my (@s, %by);
	for my $l (split(/\n/, slurp($log))) {
		my $id;
		$id = $1 if $l =~ s/^#(\d+) //;
		if ($l =~ /^CONNECT (\S+) -> (\S+)$/) {
			my $s = { id => $id // scalar(@s) + 1, peer => $1,
			    local => $2, lines => [], closed => 0 };
			push @s, $s;
			$by{ $s->{id} } = $s;
			next;
		}
		my $s = defined $id ? $by{$id} : $s[-1];
		next unless $s;
		if ($l eq 'CLOSE') {
			$s->{closed} = 1;
		} else {
			push @{ $s->{lines} }, $l;
		}
	}
	return \@s;
}

# Number of sessions opened to local address $ip (all when $ip is undef).
sub sessions_to {
	my ($log, $ip) = @_;
	return scalar grep { !defined $ip || $_->{local} eq $ip }
	    @{ smtp_sessions($log) };
}

# Command lines (without "C: ") received on sessions to $ip (all if undef).
sub smtp_commands {
	my ($log, $ip) = @_;
	return map { map { /^C: (.*)$/ ? $1 : () } @{ $_->{lines} } }
	    grep { !defined $ip || $_->{local} eq $ip } @{ smtp_sessions($log) };
}

# ---------------------------------------------------------------- savd

# Keys every test daemon gets unless the test overrides them (undef
# removes a key).  nameservers and smtp_port always point at loopback so
# that nothing ever leaves the host.
sub base_conf {
	my ($dir, %o) = @_;
	my $dns = $o{dns};
	my $dnsport = ref $dns ? $dns->{port} : $dns // free_udp_port();
	my $smtp = $o{smtp};
	my $smtpport = $o{smtp_port} // (ref $smtp ? $smtp->{port} : $smtp)
	    // free_port();
	return (socket => "$dir/savd.sock", pid_file => "$dir/savd.pid",
	    cache_file => "$dir/cache.tdb", helo_name => 'savd.test',
	    allow_networks => '127.0.0.0/8, ::1/128',
	    nameservers => "127.0.0.1:$dnsport", smtp_port => $smtpport,
	    user => '');
}

sub conf_text {
	my (%c) = @_;
	return join('', map { "$_ = $c{$_}\n" } grep { defined $c{$_} }
	    sort keys %c);
}

# start_savd(conf => {...}, args => [...], dns => $dns|PORT,
#   smtp => $smtp|PORT, smtp_port => N, dir => DIR, wait => 1, env => {})
sub start_savd {
	my (%o) = @_;
	my $dir = $o{dir} // tempdir();
	my %base = base_conf($dir, %o);
	my $self = bless { dir => $dir, conf_file => "$dir/savd.conf",
	    log => "$dir/savd.log", base => \%base }, 'Savd::Daemon';
	$self->write_conf($o{conf} // {});
	$self->{sock} = $self->{conf}{socket};
	my @cmd = (savd_bin(), '-f', '-c', $self->{conf_file},
	    @{ $o{args} // [] });
	croak "savd binary " . savd_bin() . " is not built" unless -x $cmd[0];
	$self->{pid} = spawn('savd', \@cmd, $self->{log}, $o{env});
	push @DAEMON_LOGS, $self->{log};
	return $self if defined $o{wait} && !$o{wait};
	my $ok = wait_for(sub {
		return 'dead' if !$self->alive;
		my $r = $self->query('PING', timeout => 1);
		return defined $r && $r =~ /reason=pong/ ? 'up' : 0;
	}, $o{timeout} // $DEFAULT_TIMEOUT, 0.05) // '';
	return $self if $ok eq 'up';
	my $why = $ok eq 'dead'
	    ? 'exited with status ' . ($self->{status} // '?')
	    : "did not answer PING on $self->{sock} within "
	      . ($o{timeout} // $DEFAULT_TIMEOUT) . ' s';
	my $log = slurp($self->{log});
	$self->stop unless $ok eq 'dead';
	croak "savd $why; config:\n" . slurp($self->{conf_file})
	    . "log:\n$log";
}

# ---------------------------------------------------------------- fixtures

package Savd::Fixture;

use strict;
use warnings;
use Carp qw(croak);
our $count = 0;

sub _wait_port {
	my ($self, $name) = @_;
	my $ok = Savd::wait_for(sub {
		return -1 unless kill(0, $self->{pid})
		    && waitpid($self->{pid}, POSIX::WNOHANG()) == 0;
		my $p = Savd::slurp($self->{portfile});
		return $p =~ /^(\d+)\n/ ? $1 : 0;
	}, $Savd::DEFAULT_TIMEOUT);
	croak "$name did not start: " . Savd::slurp($self->{stderr})
	    unless $ok && $ok > 0;
	$self->{port} = $ok;
}

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }
sub log_file { $_[0]{log} }
sub log_text { Savd::slurp($_[0]{log}) }

sub stop {
	my ($self) = @_;
	return Savd::kill_child($self->{pid}, 3);
}

package Savd::DNS;

use strict;
use warnings;
use Carp qw(croak);
our @ISA = ('Savd::Fixture');

# Replace the zone and wait until dnsfix has re-read it.
sub reload {
	my ($self, $zone) = @_;
	Savd::spit($self->{zone}, $zone);
	my $gen = ++$self->{gen};
	kill('HUP', $self->{pid});
	Savd::wait_for(sub { $self->log_text =~ /^#reload $gen\b/m })
	    or croak "dnsfix did not reload";
}

# Queries logged so far, as "qname qtype" strings, optionally only those
# matching $name (exact, case-insensitive) and $type.
sub queries {
	my ($self, $name, $type) = @_;
	my @q = grep { !/^#/ } split(/\n/, $self->log_text);
	@q = grep { (split / /)[0] eq lc $name } @q if defined $name;
	@q = grep { (split / /)[1] eq uc $type } @q if defined $type;
	return @q;
}

package Savd::SMTP;

use strict;
use warnings;
our @ISA = ('Savd::Fixture');

sub sessions { Savd::smtp_sessions($_[0]{log}) }
sub sessions_to { Savd::sessions_to($_[0]{log}, $_[1]) }
sub commands { Savd::smtp_commands($_[0]{log}, $_[1]) }

package Savd::Daemon;

use strict;
use warnings;
use Carp qw(croak);
use IO::Select;
use IO::Socket::UNIX;
use Socket qw(SOCK_STREAM SHUT_WR);
use Time::HiRes qw(time);

sub sock { $_[0]{sock} }
sub pid { $_[0]{pid} }
sub dir { $_[0]{dir} }
sub conf_file { $_[0]{conf_file} }
sub log_file { $_[0]{log} }
sub log_text { Savd::slurp($_[0]{log}) }

# Write the configuration file: the base keys merged with %$conf (undef
# deletes a key).  With a string, the file gets that text verbatim.
sub write_conf {
	my ($self, $conf) = @_;
	if (!ref $conf) {
		Savd::spit($self->{conf_file}, $conf);
		return;
	}
	my %c = (%{ $self->{base} }, %$conf);
	delete $c{$_} for grep { !defined $c{$_} } keys %c;
	$self->{conf} = \%c;
	Savd::spit($self->{conf_file}, Savd::conf_text(%c));
}

sub alive {
	my ($self) = @_;
	return 0 if exists $self->{status};
	my $r = waitpid($self->{pid}, POSIX::WNOHANG());
	return 1 if $r == 0;
	$self->{status} = $r != $self->{pid} ? -1
	    : $? & 127 ? 128 + ($? & 127) : $? >> 8;
	delete $Savd::CHILDREN{ $self->{pid} };
	return 0;
}

sub signal { kill($_[1], $_[0]{pid}) }
sub hup { kill('HUP', $_[0]{pid}) }

# Wait (bounded) for the daemon to exit; its exit code (128+signal when
# killed by one), or undef if it is still running.
sub wait_exit {
	my ($self, $timeout) = @_;
	return $self->{status} if exists $self->{status};
	Savd::wait_for(sub { !$self->alive }, $timeout // 10, 0.02);
	return $self->{status};
}

# SIGTERM, wait up to $timeout (10 s), then SIGKILL; returns the exit code.
sub stop {
	my ($self, $timeout) = @_;
	return $self->{status} if exists $self->{status};
	$self->signal('TERM');
	my $st = $self->wait_exit($timeout // 10);
	return $st if defined $st;
	$self->signal('KILL');
	$self->wait_exit(3);
	return undef;
}

# Wait (bounded) until the log matches $re; returns the match or false.
sub wait_log {
	my ($self, $re, $timeout) = @_;
	return Savd::wait_for(sub { $self->log_text =~ $re ? 1 : 0 },
	    $timeout // 10);
}

# A connected client socket (UNIX, or TCP with tcp => "ip:port").
sub connect {
	my ($self, %o) = @_;
	my $s;
	if ($o{tcp}) {
		my ($h, $p) = $o{tcp} =~ /^\[?(.*?)\]?:(\d+)$/;
		$s = IO::Socket::IP->new(PeerHost => $h, PeerPort => $p,
		    Timeout => $o{timeout} // 5);
	} else {
		$s = IO::Socket::UNIX->new(Type => SOCK_STREAM,
		    Peer => $o{path} // $self->{sock});
	}
	return $s;
}

# Send raw bytes on a new connection, half-close (unless halfclose => 0)
# and read until EOF or the timeout.  Scalar: the bytes read; list:
# (bytes, eof reached, seconds elapsed).
sub raw {
	my ($self, $bytes, %o) = @_;
	my $s = $self->connect(%o) or return;
	Savd::write_all($s, $bytes, $o{timeout} // 5);
	shutdown($s, SHUT_WR) unless defined $o{halfclose} && !$o{halfclose};
	my $r = Savd::read_all($s, $o{timeout} // 5);
	close($s);
	return wantarray ? ($r->{data}, $r->{eof}, $r->{elapsed}) : $r->{data};
}

# One request, one response line without its LF (undef if none).
sub query {
	my ($self, $line, %o) = @_;
	my $data = $self->raw("$line\n", %o);
	return undef unless defined $data && $data =~ /^([^\n]*)\n/;
	return $1;
}

# Several requests pipelined in one write; the response lines.
sub lines {
	my ($self, @req) = @_;
	my %o = ref $req[-1] eq 'HASH' ? %{ pop @req } : ();
	my $data = $self->raw(join('', map { "$_\n" } @req), %o) // '';
	return split(/\n/, $data);
}

sub stats { Savd::parse_response($_[0]->query('STATS')) }

# An interactive client: see Savd::Client.
sub session {
	my ($self, %o) = @_;
	my $s = $self->connect(%o) or return;
	return Savd::Client->new($s);
}

# One connection per request, all sent and half-closed before any answer
# is read (Exim's pattern, at once); the answer lines in request order.
sub concurrent {
	my ($self, $timeout, @req) = @_;
	my @c = map { $self->session } @req;
	for my $i (0 .. $#req) {
		next unless $c[$i];
		$c[$i]->send("$req[$i]\n");
		$c[$i]->shutdown_write;
	}
	return map { my $l = $_ ? $_->readline($timeout) : undef;
	    $_->close if $_; $l } @c;
}

package Savd::Client;

use strict;
use warnings;
use IO::Select;
use Socket qw(SHUT_WR);
use Time::HiRes qw(time);

# Wrap any connected socket (e.g. a TCP client of an SMTP fixture).
sub new {
	my ($class, $s) = @_;
	return bless { s => $s, buf => '', eof => 0 }, $class;
}

sub socket { $_[0]{s} }

sub send {
	my ($self, $bytes, $timeout) = @_;
	return Savd::write_all($self->{s}, $bytes, $timeout // 5);
}

sub shutdown_write { shutdown($_[0]{s}, SHUT_WR) }

sub _fill {
	my ($self, $end) = @_;
	return 0 if $self->{eof};
	my $sel = IO::Select->new($self->{s});
	my $left = $end - time;
	return 0 if $left <= 0 || !$sel->can_read($left);
	my $n = sysread($self->{s}, my $buf, 65536);
	if (!$n) {
		$self->{eof} = 1;
		return 0;
	}
	$self->{buf} .= $buf;
	return 1;
}

# The next response line (without LF), or undef on EOF or timeout.
sub readline {
	my ($self, $timeout) = @_;
	my $end = time + ($timeout // 5);
	while (1) {
		return $1 if $self->{buf} =~ s/^([^\n]*)\n//;
		next if $self->_fill($end);
		return undef if $self->{eof} || time >= $end;
	}
}

# Read until EOF or timeout; returns (true if EOF seen, bytes read).
sub wait_eof {
	my ($self, $timeout) = @_;
	my $end = time + ($timeout // 5);
	while (!$self->{eof} && time < $end) {
		$self->_fill($end);
	}
	my $data = $self->{buf};
	$self->{buf} = '';
	return ($self->{eof}, $data);
}

# True if nothing arrives and no EOF within $secs (data read is kept).
sub quiet_for {
	my ($self, $secs) = @_;
	my $end = time + $secs;
	my $len = length $self->{buf};
	while (time < $end && !$self->{eof}) {
		$self->_fill($end);
	}
	return !$self->{eof} && length $self->{buf} == $len;
}

sub eof { $_[0]{eof} }

sub close {
	my ($self) = @_;
	close($self->{s}) if $self->{s};
	$self->{s} = undef;
}

package Savd;

# Write everything (bounded); returns bytes written, stops at an error.
sub write_all {
	my ($s, $bytes, $timeout) = @_;
	my $end = time + ($timeout // 5);
	my $done = 0;
	my $sel = IO::Select->new($s);
	while ($done < length $bytes) {
		my $left = $end - time;
		last if $left <= 0;
		next unless $sel->can_write($left);
		my $n = syswrite($s, $bytes, length($bytes) - $done, $done);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
			last;
		}
		$done += $n;
	}
	return $done;
}

1;
