# RealMTA.pm - real mail servers that nobody here wrote (Debian's Exim, a
# Postfix unpacked from its .deb into a private prefix) as callout targets
# for savd's functional tests, each on its own 127.0.0.x address.
#
# The test first moves itself into private mount and network namespaces
# (isolate): there lo is brought up, the servers' and the clients'
# addresses are added to it, a private resolv.conf (nameserver 127.0.0.1)
# and hosts file are bind-mounted over the system ones so that the real
# servers' DNSBL, reverse-DNS and MX lookups reach the DNS fixture on
# 127.0.0.1:53, and port 25 is made bindable by unprivileged users (Exim
# started with -C drops root before it binds).  Nothing of this is seen
# outside the test process and its children.
#
# Every server started here is a child of the test process, run in the
# foreground (exim -bdf, Postfix's master -d) and stopped by its PID only
# (TERM, then KILL), when the test calls ->stop or at exit.
package RealMTA;

use strict;
use warnings;
use Carp qw(croak);
use Exporter qw(import);
use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use Savd ();

our @EXPORT_OK = qw(isolate cannot_run exim_bin postfix_prefix make_cert
    check_rcpt_limit
    wait_greeting smtp_dialogue start_exim start_postfix);
our %EXPORT_TAGS = (all => \@EXPORT_OK);

# Where tools/deps.sh unpacks the downloaded .deb files (SAVD_MTA_CACHE
# overrides it).
our $CACHE = $ENV{SAVD_MTA_CACHE} // '/var/cache/savd-test-mtas';

use constant CLONE_NEWNS => 0x00020000;
use constant CLONE_NEWNET => 0x40000000;

my $OWNER = $$;
my @STARTED;            # server objects still running

sub exim_bin { (grep { -x } qw(/usr/sbin/exim4 /usr/sbin/exim))[0] }

# The unpacked Postfix: the prefix directory, or undef.
sub postfix_prefix {
	my $p = "$CACHE/postfix";
	return -x "$p/usr/sbin/postfix" && -x "$p/usr/lib/postfix/sbin/master"
	    ? $p : undef;
}

# Why real servers cannot run here (a reason for skip_all), or undef.
sub cannot_run {
	my (%o) = @_;
	return 'needs root (private network namespace, port 25, the MTA users)'
	    if $> != 0;
	for my $t (qw(ip mount openssl)) {
		return "needs the $t command"
		    unless grep { -x "$_/$t" } split(/:/, "$ENV{PATH}:/usr/sbin:/sbin");
	}
	if ($o{exim}) {
		return 'Exim is not installed (Debian: apt-get install'
		    . ' exim4-daemon-heavy)' unless exim_bin();
		return 'no Debian-exim user' unless getpwnam('Debian-exim');
	}
	if ($o{postfix}) {
		return "Postfix is not unpacked in $CACHE/postfix (run"
		    . ' tools/deps.sh as root: apt-get download postfix;'
		    . ' dpkg -x)' unless postfix_prefix();
	}
	return undef;
}

sub _run {
	my (@cmd) = @_;
	my $r = Savd::run_cmd(\@cmd, timeout => 20);
	return (defined $r->{status} && $r->{status} == 0) ? undef
	    : "@cmd: " . ($r->{err} || $r->{out} || 'failed');
}

# Move this process into private mount and network namespaces and set
# them up (see the top of this file).  @addrs are added to lo as /32.
# Must run before any fixture or server is started.  Returns undef on
# success, else the reason it failed (for plan skip_all).
sub isolate {
	my (%o) = @_;
	my $why = cannot_run(%o);
	return $why if $why;
	return 'isolate: already called' if $RealMTA::isolated;
	require 'syscall.ph';
	my $nr = eval { &SYS_unshare() } // 272;
	if (syscall($nr, CLONE_NEWNS | CLONE_NEWNET) != 0) {
		return "unshare(CLONE_NEWNS|CLONE_NEWNET) is not permitted: $!";
	}
	$RealMTA::isolated = 1;
	my $err = _run('mount', '--make-rprivate', '/')
	    // _run('ip', 'link', 'set', 'lo', 'up');
	return $err if $err;
	for my $a (@{ $o{addrs} // [] }) {
		$err = _run('ip', 'addr', 'add', "$a/32", 'dev', 'lo');
		return $err if $err;
	}
	my $etc = $o{dir} // Savd::tempdir();
	make_path("$etc/etc");
	Savd::spit("$etc/etc/resolv.conf", "nameserver 127.0.0.1\n"
	    . "options timeout:1 attempts:2\n");
	Savd::spit("$etc/etc/hosts", "127.0.0.1 localhost\n"
	    . join('', map { "$_\n" } @{ $o{hosts} // [] }));
	chmod(0644, "$etc/etc/resolv.conf", "$etc/etc/hosts");
	chmod(0755, $etc, "$etc/etc");
	for my $f (qw(resolv.conf hosts)) {
		$err = _run('mount', '--bind', "$etc/etc/$f", "/etc/$f");
		return $err if $err;
	}
	if (open(my $fh, '>', '/proc/sys/net/ipv4/ip_unprivileged_port_start')) {
		print $fh "0\n";
		close($fh);
	}
	return undef;
}

# A self-signed certificate and key (PEM files, readable by everybody,
# for servers that dropped root).  Returns (cert, key).
sub make_cert {
	my ($dir, $cn) = @_;
	my ($cert, $key) = ("$dir/$cn.crt", "$dir/$cn.key");
	my $err = _run('openssl', 'req', '-x509', '-nodes', '-newkey', 'ec',
	    '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-days', '2',
	    '-subj', "/CN=$cn", '-keyout', $key, '-out', $cert);
	croak "make_cert: $err" if $err;
	chmod(0644, $cert, $key);
	return ($cert, $key);
}

# Connect to ip:port until the greeting arrives; returns it (undef when
# nothing greets within $timeout).
sub wait_greeting {
	my ($ip, $port, $timeout) = @_;
	my $greet;
	Savd::wait_for(sub {
		my $s = IO::Socket::INET->new(PeerAddr => $ip,
		    PeerPort => $port, Timeout => 1) or return 0;
		my $c = Savd::Client->new($s);
		$greet = $c->readline(2);
		$c->send("QUIT\r\n");
		$c->close;
		return defined $greet && $greet =~ /^220/;
	}, $timeout // 10, 0.05);
	$greet =~ s/\r$// if defined $greet;
	return $greet;
}

# A plain SMTP dialogue from $from (a local address to bind) to ip:port:
# each command's whole reply (lines joined with "\n"), the greeting first.
sub smtp_dialogue {
	my ($ip, $port, $from, @cmds) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => $ip, PeerPort => $port,
	    $from ? (LocalAddr => $from) : (), Timeout => 3) or return ();
	my $c = Savd::Client->new($s);
	my @r;
	for my $cmd (undef, @cmds, 'QUIT') {
		$c->send("$cmd\r\n") if defined $cmd;
		my @l;
		while (defined(my $l = $c->readline(5))) {
			$l =~ s/\r$//;
			push @l, $l;
			last if $l =~ /^\d{3}(?: |$)/;
		}
		push @r, join("\n", @l);
	}
	$c->close;
	return @r;
}

END {
	if ($$ == $OWNER) {
		local $?;
		$_->stop for reverse @STARTED;
	}
}

# ---------------------------------------------------------------- Exim

# A second, private Exim daemon: /usr/sbin/exim4 -C FILE -bdf.
#   start_exim(dir => D, addr => '127.0.0.20', port => 25,
#       main => "main section lines", acl => "begin acl ... text",
#       routers => "...", hostname => 'mx.exim.test', tls => 1)
# The configuration is the main section (listening address, spool, logs,
# pid file, TLS certificate) + main + acl + routers + a transport that is
# never used.  Exim started by root with -C drops root and runs as
# Debian-exim, so its directories belong to that user.  Returns an object
# with ->addr ->port ->pid ->log_text ->panic_log ->greeting ->stop.
# PROTOCOL 4c with a real server's recipient limit: six addresses asked at
# once through savd $d all get their own answer (nouser* rejected, the
# others accepted from $mx), in at least 3 sessions of the server $srv,
# whose log shows a session from $client as a line matching $connect_re.
sub check_rcpt_limit {
	my (%o) = @_;
	my @addr = qw(alice nouser1 bob carol nouser2 dave);
	my $logpos = length $o{srv}->log_text;
	my @ans = $o{d}->concurrent(30,
	    map { "RECIPIENT <$_\@$o{domain}>" } @addr);
	for my $i (0 .. $#addr) {
		main::diag("savd: RECIPIENT <$addr[$i]\@$o{domain}> -> "
		    . ($ans[$i] // '(no answer)'));
		my $unknown = $addr[$i] =~ /^nouser/;
		Savd::fields_ok("$o{name}: $addr[$i] still gets its real answer ("
		    . ($unknown ? 'fail rejected' : 'ok accepted') . ')', $ans[$i],
		    result => $unknown ? 'fail' : 'ok',
		    reason => $unknown ? 'rejected' : 'accepted', mx => $o{mx});
	}
	my $log = substr($o{srv}->log_text, $logpos);
	my $sessions = () = $log =~ /$o{connect_re}/g;
	main::diag("the server saw $sessions sessions from savd");
	main::cmp_ok($sessions, '>=', 3, '... in at least 3 sessions (6 '
	    . 'addresses, 2 per message: the 452s were retried in new ones)');
}

sub start_exim {
	my (%o) = @_;
	my $exim = exim_bin() or croak 'no Exim';
	my $dir = $o{dir} // Savd::tempdir();
	my $addr = $o{addr} // croak 'start_exim: addr';
	my $port = $o{port} // 25;
	my $name = $o{hostname} // "mx-$addr.test";
	my $d = "$dir/exim-$addr";
	make_path("$d/spool", "$d/log");
	my ($uid, $gid) = (getpwnam('Debian-exim'))[2, 3];
	chown($uid, $gid, $d, "$d/spool", "$d/log");
	chmod(0755, $dir);
	my $tls = '';
	if ($o{tls}) {
		my ($cert, $key) = make_cert($d, $name);
		$tls = "tls_certificate = $cert\ntls_privatekey = $key\n"
		    . "tls_advertise_hosts = *\n";
	} else {
		$tls = "tls_advertise_hosts =\n";
	}
	my $conf = "$d/exim.conf";
	Savd::spit($conf, <<"EOF" . ($o{main} // '') . "\n"
# private Exim for savd's tests (t/lib/RealMTA.pm)
primary_hostname = $name
daemon_smtp_ports = $port
local_interfaces = <; $addr
spool_directory = $d/spool
log_file_path = $d/log/%slog
pid_file_path = $d/exim.pid
log_selector = +smtp_connection +smtp_protocol_error +smtp_syntax_error \\
    +incoming_interface +received_recipients +tls_cipher
host_lookup =
rfc1413_hosts =
keep_environment =
smtp_banner = \$smtp_active_hostname ESMTP Exim \$version_number \$tod_full
${tls}
EOF
	    . ($o{acl} // "begin acl\n") . "\n"
	    . "begin routers\n" . ($o{routers} // '') . "\n" . <<'EOF');
begin transports
never_used:
  driver = appendfile
  file = /dev/null
EOF
	chmod(0644, $conf);
	my $self = bless { kind => 'exim', dir => $d, addr => $addr,
	    port => $port, conf => $conf }, 'RealMTA::Server';
	# -bdf: daemon in the foreground; -oX: only this interface and port.
	$self->{pid} = Savd::spawn("exim $addr", [$exim, '-C', $conf, '-bdf',
	    '-oX', "<; $addr.$port", '-oP', "$d/exim.pid"], "$d/stderr");
	push @STARTED, $self;
	$self->{greeting} = wait_greeting($addr, $port, 10);
	if (!defined $self->{greeting}) {
		my $err = Savd::slurp("$d/stderr") . Savd::slurp("$d/log/paniclog")
		    . Savd::slurp("$d/log/mainlog");
		$self->stop;
		croak "Exim on $addr:$port did not start:\n$err";
	}
	return $self;
}

# ---------------------------------------------------------------- Postfix

# Create the users and group Debian's postinst would (once).
sub postfix_users {
	if (!getgrnam('postdrop')) {
		my $e = _run('groupadd', '--system', 'postdrop');
		return $e if $e;
	}
	if (!getpwnam('postfix')) {
		my $e = _run('useradd', '--system', '--home-dir',
		    '/var/spool/postfix', '--no-create-home', '--shell',
		    '/usr/sbin/nologin', '--user-group', 'postfix');
		return $e if $e;
	}
	return undef;
}

# A private Postfix from the unpacked .deb, master in the foreground.
#   start_postfix(dir => D, addrs => ['127.0.0.40', ...], port => 25,
#       main => { key => value, ... },         # over the base main.cf
#       services => { '127.0.0.41' => ['-o', 'k=v', ...] },  # per address
#       files => { name => text },             # written into the config dir
#       hostname => 'mx.postfix.test')
# Every address gets an smtpd (chroot off) with its own -o options.  In
# main.cf, CONF stands for the configuration directory.  Returns an
# object with ->addr ->port ->conf_dir ->log_text ->greeting ->stop.
sub start_postfix {
	my (%o) = @_;
	my $p = postfix_prefix() or croak 'no Postfix prefix';
	my $err = postfix_users();
	croak "start_postfix: $err" if $err;
	my $dir = $o{dir} // Savd::tempdir();
	my @addrs = @{ $o{addrs} // croak 'start_postfix: addrs' };
	my $port = $o{port} // 25;
	my $name = $o{hostname} // "mx-$addrs[0].test";
	my $d = "$dir/postfix-$addrs[0]";
	my $conf = "$d/etc";
	make_path($conf, "$d/spool", "$d/data", "$d/log");
	chmod(0755, $dir, $d, $conf, "$d/spool", "$d/log");
	my ($uid, $gid) = (getpwnam('postfix'))[2, 3];
	chown($uid, $gid, "$d/data");

	# What the package's postinst puts into the meta directory.
	for my $f (qw(postfix-files postfix-script post-install
	    postfix-tls-script postmulti-script)) {
		my $src = -e "$p/etc/postfix/$f" ? "$p/etc/postfix/$f"
		    : "$p/usr/lib/postfix/sbin/$f";
		next unless -e $src;
		Savd::spit("$conf/$f", Savd::slurp($src));
		chmod(-x $src ? 0755 : 0644, "$conf/$f");
	}
	make_path("$conf/postfix-files.d", "$conf/dynamicmaps.cf.d");
	Savd::spit("$conf/dynamicmaps.cf",
	    Savd::slurp("$p/usr/share/postfix/dynamicmaps.cf"));
	Savd::spit("$conf/main.cf.proto",
	    Savd::slurp("$p/usr/share/postfix/main.cf.dist"));
	Savd::spit("$conf/master.cf.proto",
	    Savd::slurp("$p/usr/share/postfix/master.cf.dist"));

	my ($cert, $key) = make_cert($d, $name);
	my $lib = "$p/usr/lib/postfix";
	my %main = (
		compatibility_level => '3.6',
		queue_directory => "$d/spool",
		data_directory => "$d/data",
		meta_directory => $conf,
		daemon_directory => "$p/usr/lib/postfix/sbin",
		command_directory => "$p/usr/sbin",
		shlib_directory => $lib,
		sendmail_path => "$p/usr/sbin/sendmail",
		newaliases_path => "$p/usr/bin/newaliases",
		mailq_path => "$p/usr/bin/mailq",
		manpage_directory => "$p/usr/share/man",
		mail_owner => 'postfix',
		setgid_group => 'postdrop',
		myhostname => $name,
		mydomain => 'postfix.test',
		myorigin => '$myhostname',
		mydestination => '',
		inet_interfaces => join(', ', @addrs),
		inet_protocols => 'ipv4',
		# The verifier's addresses must not be trusted.
		mynetworks => '127.0.0.1/32',
		smtpd_client_event_limit_exceptions => '127.0.0.1/32',
		maillog_file => "$d/log/maillog",
		maillog_file_prefixes => $d,
		import_environment => 'MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ'
		    . ' LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME'
		    . " LD_LIBRARY_PATH=$lib",
		alias_maps => '',
		alias_database => '',
		biff => 'no',
		smtputf8_enable => 'no',
		smtpd_banner => '$myhostname ESMTP $mail_name (Debian/GNU)',
		smtpd_tls_cert_file => $cert,
		smtpd_tls_key_file => $key,
		smtpd_tls_security_level => 'may',
		smtpd_tls_loglevel => 1,
		smtp_dns_support_level => 'enabled',
		%{ $o{main} // {} },
	);
	my $maincf = join('', map {
		(my $v = $main{$_}) =~ s/\bCONF\//$conf\//g;
		"$_ = $v\n" } sort keys %main);
	Savd::spit("$conf/main.cf", $maincf);
	my $master = '';
	for my $a (@addrs) {
		my @x = @{ $o{services}{$a} // [] };
		$master .= "$a:$port inet n - n - - smtpd"
		    . join('', map { "\n  $_" } @x) . "\n";
	}
	$master .= <<'EOF';
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	Savd::spit("$conf/master.cf", $master);
	for my $f (sort keys %{ $o{files} // {} }) {
		Savd::spit("$conf/$f", $o{files}{$f});
	}
	# Postfix waits at start until its files are older than the current
	# second: date them a minute back.
	my $past = time - 60;
	opendir(my $dh, $conf);
	utime($past, $past, map { "$conf/$_" } grep { !/^\./ } readdir($dh));
	closedir($dh);

	my %env = (LD_LIBRARY_PATH => $lib, MAIL_CONFIG => $conf);
	my $self = bless { kind => 'postfix', dir => $d, addr => $addrs[0],
	    addrs => \@addrs, port => $port, conf => $conf, prefix => $p,
	    env => \%env }, 'RealMTA::Server';
	my $chk = Savd::run_cmd(["$p/usr/sbin/postfix", '-c', $conf, 'check'],
	    env => \%env, timeout => 20);
	$self->{check} = $chk->{err} . $chk->{out};
	# The master itself, in the foreground (-d: no detaching), so that
	# its PID is ours; "postfix start-fg" would leave it a grandchild.
	$self->{pid} = Savd::spawn("postfix $addrs[0]",
	    ["$p/usr/lib/postfix/sbin/master", '-d', '-c', $conf],
	    "$d/stderr", \%env);
	push @STARTED, $self;
	for my $a (@addrs) {
		my $g = wait_greeting($a, $port, 10);
		$self->{greeting} //= $g;
		next if defined $g;
		my $e = "$self->{check}\n" . Savd::slurp("$d/stderr")
		    . Savd::slurp("$d/log/maillog");
		$self->stop;
		croak "Postfix on $a:$port did not start:\n$e";
	}
	return $self;
}

package RealMTA::Server;

sub addr { $_[0]{addr} }
sub port { $_[0]{port} }
sub dir { $_[0]{dir} }
sub conf { $_[0]{conf} }
sub conf_dir { $_[0]{conf} }
sub pid { $_[0]{pid} }
sub greeting { $_[0]{greeting} }

# The server's own log: Exim's mainlog (rejections included), Postfix's
# maillog.  ->panic_log: Exim's paniclog, Postfix's startup output.
sub log_text {
	my ($self) = @_;
	return Savd::slurp("$self->{dir}/log/"
	    . ($self->{kind} eq 'exim' ? 'mainlog' : 'maillog'));
}

sub panic_log {
	my ($self) = @_;
	return Savd::slurp("$self->{dir}/stderr")
	    . ($self->{kind} eq 'exim' ? Savd::slurp("$self->{dir}/log/paniclog")
		: $self->{check} // '');
}

# Stop the server we started, by its PID: TERM (Exim's daemon and
# Postfix's master stop their own children), then KILL.
sub stop {
	my ($self) = @_;
	return unless $self->{pid};
	Savd::kill_child($self->{pid}, 5);
	$self->{pid} = undef;
}

1;
