#!/usr/bin/perl
# 34-tls.t - STARTTLS in callouts (issue 12) against a TLS-speaking fixture
# on loopback: Perl's IO::Socket::SSL with a self-signed certificate made
# here by openssl.  One behaviour per loopback address (all on one port):
#   tls        offers STARTTLS and does it; logs what it reads inside TLS
#   garbage    offers STARTTLS, answers 220, then sends HTTP, not a
#              ServerHello; plain text works
#   stall      offers STARTTLS, answers 220, then reads and never answers
#   required   530 to MAIL outside TLS (Postfix's encrypt level); fine
#              inside TLS
#   inject     "220 go ahead" and a plain-text reply in the same write
#   reqbroken  requires TLS and its handshake is garbage
#   tlserror   plain bytes inside the TLS stream after MAIL (a TLS error
#              before RCPT's reply)
# The fixture never connects anywhere and dies with the test.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use IO::Socket::IP;
use IO::Select;
use POSIX ();
use Savd qw(:all);

BEGIN {
	eval { require IO::Socket::SSL; 1 } or do {
		plan skip_all => 'IO::Socket::SSL (libio-socket-ssl-perl) is'
		    . ' not installed';
	};
}
plan skip_all => 'openssl(1) is not installed'
    unless run_cmd(['openssl', 'version'])->{status} == 0;

my %IP = (tls => '127.0.0.61', garbage => '127.0.0.62',
    stall => '127.0.0.63', required => '127.0.0.64', inject => '127.0.0.65',
    reqbroken => '127.0.0.66', never => '127.0.0.67',
    tlserror => '127.0.0.69');
my %BEH = (never => 'tls');     # a second "tls" server, asked with tls=never

my $dir = tempdir();
my ($cert, $key) = ("$dir/cert.pem", "$dir/key.pem");
my $r = run_cmd(['openssl', 'req', '-x509', '-newkey', 'ec', '-pkeyopt',
    'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', $key, '-out',
    $cert, '-days', '2', '-subj', '/CN=mx.tls.test']);
ok($r->{status} == 0 && -s $cert, 'a self-signed certificate')
    or BAIL_OUT('openssl req failed');

# ---------------------------------------------------------------- fixture

my $log_file = "$dir/fixture.log";

sub serve_reply {
	my ($c, $log, $tag, @lines) = @_;
	my $text = join('', map { "$_\r\n" } @lines);
	print $log "$tag S: $_\n" for @lines;
	print $c $text;
}

# One SMTP session as behaviour $b; blocking, bounded by alarm.
sub serve {
	my ($c, $b) = @_;
	open(my $log, '>>', $log_file) or POSIX::_exit(1);
	$log->autoflush(1);
	$c->autoflush(1);
	my ($tls, $tag) = (0, "$b $$");
	print $log "$tag CONNECT\n";
	serve_reply($c, $log, $tag, "220 mx.$b.test ESMTP fixture");
	while (defined(my $l = <$c>)) {
		$l =~ s/\r?\n\z//;
		print $log "$tag " . ($tls ? 'TLS ' : '') . "C: $l\n";
		if ($l =~ /^EHLO/i) {
			my @k = ("mx.$b.test", 'PIPELINING', $tls ? () : 'STARTTLS');
			serve_reply($c, $log, $tag,
			    (map { "250-$_" } @k[0 .. $#k - 1]), "250 $k[-1]");
		} elsif ($l =~ /^STARTTLS/i && !$tls) {
			if ($b eq 'inject') {
				serve_reply($c, $log, $tag, '220 go ahead',
				    '250-injected');
				next;
			}
			serve_reply($c, $log, $tag, '220 2.0.0 Ready to start TLS');
			if ($b eq 'garbage' || $b eq 'reqbroken') {
				sysread($c, my $hello, 8192);
				print $c "HTTP/1.0 400 Bad Request\r\n\r\n";
				sleep 2;
				last;
			}
			if ($b eq 'stall') {
				sysread($c, my $hello, 8192);
				print $log "$tag STALLING\n";
				sleep 30;
				last;
			}
			if (!IO::Socket::SSL->start_SSL($c, SSL_server => 1,
			    SSL_cert_file => $cert, SSL_key_file => $key)) {
				print $log "$tag HANDSHAKE FAILED "
				    . "$IO::Socket::SSL::SSL_ERROR\n";
				last;
			}
			$tls = 1;
			print $log "$tag TLS UP " . $c->get_sslversion . ' SNI='
			    . ($c->get_servername // '-') . "\n";
		} elsif ($l =~ /^MAIL/i && $tls && $b eq 'tlserror') {
			open(my $raw, '>&=', fileno($c)) or last;
			syswrite($raw, "250 plain text inside TLS\r\n");
			print $log "$tag RAW BYTES\n";
			sleep 2;
			last;
		} elsif ($l =~ /^MAIL/i) {
			serve_reply($c, $log, $tag, !$tls && $b =~ /^req/
			    ? '530 5.7.0 Must issue a STARTTLS command first'
			    : '250 2.1.0 Ok');
		} elsif ($l =~ /^RCPT TO:<(alice|bob)\@/i) {
			serve_reply($c, $log, $tag, '250 2.1.5 Ok');
		} elsif ($l =~ /^RCPT/i) {
			serve_reply($c, $log, $tag, '550 5.1.1 User unknown');
		} elsif ($l =~ /^QUIT/i) {
			serve_reply($c, $log, $tag, '221 2.0.0 Bye');
			last;
		} else {
			serve_reply($c, $log, $tag, '500 5.5.2 what?');
		}
	}
	print $log "$tag CLOSE\n";
}

sub fixture {
	my ($pf) = @_;
	my ($port, %beh, @l) = (0);
	for my $name (sort keys %IP) {
		my $s = IO::Socket::IP->new(LocalHost => $IP{$name},
		    LocalPort => $port, Listen => 64, ReuseAddr => 1)
		    or die "listen $IP{$name}: $!";
		$port ||= $s->sockport;
		$beh{fileno $s} = $BEH{$name} // $name;
		push @l, $s;
	}
	Savd::spit($pf, "$port\n");
	$SIG{CHLD} = 'IGNORE';
	$SIG{TERM} = sub { POSIX::_exit(0) };
	my ($parent, $sel) = (getppid(), IO::Select->new(@l));
	while (getppid() == $parent) {
		for my $s ($sel->can_read(0.5)) {
			my $c = $s->accept or next;
			my $pid = fork;
			if (defined $pid && $pid == 0) {
				$SIG{TERM} = 'DEFAULT';
				alarm 40;
				serve($c, $beh{fileno $s});
				POSIX::_exit(0);
			}
			close($c);
		}
	}
	POSIX::_exit(0);
}

my $pf = "$dir/fixture.port";
my $fpid = fork // die "fork: $!";
if ($fpid == 0) {
	fixture($pf);
}
$Savd::CHILDREN{$fpid} = 'tlsfix';
ok(wait_for(sub { -s $pf }, 10), 'the TLS fixture listens')
    or BAIL_OUT(slurp($log_file));
chomp(my $port = slurp($pf));

my $zone = '';
$zone .= "$_.test MX 10 mx.$_.test\nmx.$_.test A $IP{$_}\n" for sort keys %IP;
my $dns = start_dns($zone, dir => $dir);

my %conf = (connect_timeout => '2s', command_timeout => '2s',
    callout_timeout => '15s', answer_timeout => '12s',
    domain_rate => '1000/1m', catchall_probe => 'no');
my $d = start_savd(dir => $dir, dns => $dns, smtp_port => $port,
    conf => \%conf);

sub ask {
	my ($name, $req, %want) = @_;
	my $t0 = time;
	my $line = $d->query($req, timeout => 14);
	diag(sprintf("%s -> %s (%.2f s)", $req, $line // '(no answer)',
	    time - $t0));
	return (fields_ok($name, $line, %want), time - $t0);
}

# Lines the fixture logged for sessions of behaviour $b.
sub flog {
	my ($b) = @_;
	return grep { /^\Q$b\E \d+ / } split(/\n/, slurp($log_file));
}

# ---------------------------------------------------------------- used

ask('STARTTLS offered: ok accepted over TLS', 'RECIPIENT <alice@tls.test>',
    result => 'ok', reason => 'accepted', source => 'callout',
    tls => qr/^TLSv1\.[23]$/, mx => "mx.tls.test[$IP{tls}]");
ask('... an unknown user fails over TLS', 'RECIPIENT <nobody@tls.test>',
    result => 'fail', reason => 'rejected', tls => qr/^TLSv1\.[23]$/);
my @l = flog('tls');
ok((grep { /TLS C: RCPT TO:<alice\@tls\.test>/ } @l),
    'the fixture read RCPT inside TLS');
ok(!(grep { /\d+ C: (MAIL|RCPT)/ } @l), '... and no MAIL or RCPT outside');
ok((grep { /TLS C: EHLO savd\.test/ } @l), 'EHLO again after the handshake');
ok((grep { /TLS UP \S+ SNI=mx\.tls\.test$/ } @l), 'SNI is the MX host name');
like($d->log_text, qr/verify result=ok .*addr=<alice\@tls\.test>.* tls=TLSv1\.[23] tls_verified=no /,
    'the log says tls= and tls_verified=no (self-signed)');
ask('a cached answer has no tls= field', 'RECIPIENT <alice@tls.test>',
    result => 'ok', source => 'cache', tls => undef);

# ---------------------------------------------------------------- garbage

ask('garbage instead of a ServerHello: plain-text retry, real answer',
    'RECIPIENT <alice@garbage.test>', result => 'ok', reason => 'accepted',
    tls => 'no');
@l = flog('garbage');
is(scalar(grep { / CONNECT$/ } @l), 2, '... in two connections');
is(scalar(grep { / C: STARTTLS$/ } @l), 1, '... STARTTLS in the first only');
like($d->log_text, qr/tls_failed host=mx\.garbage\.test\[\Q$IP{garbage}\E\] why="TLS handshake/,
    'the handshake failure is logged');
ask('the host is remembered as TLS-broken: straight to plain text',
    'RECIPIENT <bob@garbage.test>', result => 'ok', tls => 'no');
@l = flog('garbage');
is(scalar(grep { / CONNECT$/ } @l), 3, '... one more connection');
is(scalar(grep { / C: STARTTLS$/ } @l), 1, '... without STARTTLS');

# ---------------------------------------------------------------- stall

my (undef, $took) = ask('a handshake that stalls: cut by command_timeout,'
    . ' then plain text', 'RECIPIENT <alice@stall.test>', result => 'ok',
    reason => 'accepted', tls => 'no');
cmp_ok($took, '>=', 1.8, '... after command_timeout (2 s)');
cmp_ok($took, '<', 5, '... and not much later');
like($d->log_text, qr/tls_failed host=mx\.stall\.test\S* why="TLS handshake timed out"/,
    'the stalled handshake is logged');

# ---------------------------------------------------------------- required

ask('STARTTLS required (530 outside TLS), handshake fine: the real answer',
    'RECIPIENT <alice@required.test>', result => 'ok', reason => 'accepted',
    tls => qr/^TLSv1\.[23]$/);
ask('... and an unknown user fails', 'RECIPIENT <nobody@required.test>',
    result => 'fail', reason => 'rejected', tls => qr/^TLSv1/);

# ---------------------------------------------------------------- inject

ask('plain text after 220 to STARTTLS (injection): defer tempfail',
    'RECIPIENT <alice@inject.test>', result => 'defer', reason => 'tempfail',
    text => qr/protocol violation \(a reply before its command\): 250-injected/);
@l = flog('inject');
is(scalar(grep { / C: / } @l), 2,
    'only EHLO and STARTTLS were sent: nothing after the injection');

# ---------------------------------------------------------------- reqbroken

ask('TLS required and the handshake fails: defer tempfail, never fail',
    'RECIPIENT <nobody@reqbroken.test>', result => 'defer',
    reason => 'tempfail', text => qr/TLS/);
ask('... the same for another address (TLS-broken, plain)',
    'SENDER <alice@reqbroken.test>', result => 'defer', reason => 'tempfail');
like($d->query('HEALTH'), qr/blocked_hosts=0\b/,
    '... and the host is not recorded as blocking us');

# A server that talks first right after the handshake is caught only when
# its line is read before our EHLO goes out (smtpconn.c reads once at the
# end of the handshake); after that it is a server lying about its own
# replies, which no client can tell.  Not tested here: it is a race.

# ---------------------------------------------------------------- tlserror

ask('a TLS error before the reply to RCPT: plain-text retry, real answer',
    'RECIPIENT <alice@tlserror.test>', result => 'ok', reason => 'accepted',
    tls => 'no');
@l = flog('tlserror');
is(scalar(grep { / CONNECT$/ } @l), 2, '... in two connections');
ok((grep { /RAW BYTES/ } @l), '... the first one broken inside TLS');

my $st = parse_response($d->query('STATS'));
cmp_ok($st->{tls_sessions} // -1, '>=', 4, 'STATS tls_sessions');
cmp_ok($st->{tls_failures} // -1, '>=', 4, 'STATS tls_failures');
cmp_ok($st->{tls_plain_retries} // -1, '>=', 4, 'STATS tls_plain_retries');
$d->stop;

# ---------------------------------------------------------------- never

$d = start_savd(dir => tempdir(), dns => $dns, smtp_port => $port,
    conf => { %conf, tls => 'never' });
ask('tls = never: plain text though STARTTLS is offered',
    'RECIPIENT <alice@never.test>', result => 'ok', tls => 'no');
@l = flog('tls');
my @nl = grep { /^tls \d+ / } split(/\n/, slurp($log_file));
my ($last) = map { /^tls (\d+) CONNECT/ ? $1 : () } reverse @nl;
ok(defined $last && !(grep { /^tls $last C: STARTTLS/ } @nl),
    '... no STARTTLS sent');
unlike($d->log_text, qr/tls_verified/, '... and no tls_verified in the log');
$d->stop;

# ---------------------------------------------------------------- verified

# With the fixture's certificate as the only CA (SSL_CERT_FILE, honoured as
# OpenSSL does), it verifies for the name it carries and for no other.
$d = start_savd(dir => tempdir(), dns => $dns, smtp_port => $port,
    conf => \%conf, env => { SSL_CERT_FILE => $cert });
ask('a certificate that verifies', 'RECIPIENT <alice@tls.test>',
    result => 'ok', tls => qr/^TLSv1/);
ask('... one for another name', 'RECIPIENT <alice@required.test>',
    result => 'ok', tls => qr/^TLSv1/);
like($d->log_text, qr/addr=<alice\@tls\.test>.* tls=TLSv1\.\d tls_verified=yes /,
    'tls_verified=yes for mx.tls.test (the name in the certificate)');
like($d->log_text, qr/addr=<alice\@required\.test>.* tls=TLSv1\.\d tls_verified=no /,
    'tls_verified=no for mx.required.test (SNI and name check)');
$d->stop;

done_testing();
