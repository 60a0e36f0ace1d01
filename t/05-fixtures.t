#!/usr/bin/perl
# 05-fixtures.t - self-test of the test fixtures: the scripted DNS server
# (t/lib/dnsfix.pl), the scripted SMTP server (t/lib/smtpfix.pl) and the
# helpers of t/lib/Savd.pm.  Needs no savd: if this fails, every other
# functional test is suspect.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use IO::Socket::IP;
use IO::Select;
use Net::DNS;
use Net::DNS::Packet;
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

# ------------------------------------------------------------ Savd.pm

my $r = parse_response('result=fail code=550 reason=rejected mx=a[1.2.3.4]'
    . ' text="5.1.1 say \"hi\" back\\\\slash"' . "\n");
is($r->{result}, 'fail', 'parse_response: result');
is($r->{code}, '550', 'parse_response: code');
is($r->{mx}, 'a[1.2.3.4]', 'parse_response: bracketed value');
is($r->{text}, '5.1.1 say "hi" back\\slash', 'parse_response: text unescaped');
is_deeply(parse_response('result=ok flushed=0'),
    { result => 'ok', flushed => 0 }, 'parse_response: plain fields');

like(free_port(), qr/^\d+$/, 'free_port gives a number');
my $t0 = time;
ok(!wait_for(sub { 0 }, 0.3), 'wait_for gives up on a false condition');
cmp_ok(time - $t0, '<', 2, '... within its timeout');
is(wait_for(sub { 42 }, 1), 42, 'wait_for returns the true value');

my $rc = run_cmd([$^X, '-e', 'print "out"; print STDERR "err"; exit 3']);
is($rc->{status}, 3, 'run_cmd: exit status');
is($rc->{out}, 'out', 'run_cmd: stdout');
is($rc->{err}, 'err', 'run_cmd: stderr');
$t0 = time;
$rc = run_cmd([$^X, '-e', 'sleep 30'], timeout => 0.5);
ok(!defined $rc->{status}, 'run_cmd: a hung command times out');
cmp_ok(time - $t0, '<', 5, '... and is killed promptly');

SKIP: {
	skip 'not root: cannot switch to nobody', 1 if $> != 0;
	skip 'no user nobody', 1 unless defined getpwnam('nobody');
	is(as_user('nobody', sub { "$<" }), scalar(getpwnam('nobody')),
	    'as_user runs the code as nobody');
}

# ------------------------------------------------------------ DNS

my $zone = <<'EOF';
# a comment line
example.test      MX    10 mx1.example.test
example.test      MX    20 mx2.example.test.   # trailing comment
mx1.example.test  A     127.0.0.2
mx1.example.test  AAAA  ::1
alias.example.test CNAME mx1.example.test
nullmx.test       MX    0 .
servfail.test     SERVFAIL
refused.test      REFUSED
timeout.test      TIMEOUT
trunc.test        TRUNCATE
crafted.test      CRAFTED
garbage.test      GARBAGE
partial.test      SERVFAIL MX
partial.test      A     127.0.0.3
late.test         DELAY 1
late.test         MX    5 mx1.example.test
EOF
my $dns = start_dns($zone);
like($dns->port, qr/^\d+$/, 'dnsfix started on a port');

my $res = Net::DNS::Resolver->new(nameservers => ['127.0.0.1'],
    port => $dns->port, recurse => 0, udp_timeout => 2, retry => 1,
    igntc => 1, usevc => 0, searchlist => [], defnames => 0);

sub ask {
	my ($name, $type) = @_;
	return $res->send($name, $type);
}

my $p = ask('example.test', 'MX');
ok($p, 'MX query answered');
is($p->header->rcode, 'NOERROR', '... NOERROR');
ok($p->header->aa, '... with AA');
is_deeply([sort map { $_->preference . ' ' . lc $_->exchange } $p->answer],
    ['10 mx1.example.test', '20 mx2.example.test'], '... both MX records');

$p = ask('MX1.Example.Test', 'A');
is(join(',', map { $_->address } $p->answer), '127.0.0.2',
    'A record, name case-insensitive');
$p = ask('mx1.example.test', 'AAAA');
is(join(',', map { $_->address_short } $p->answer), '::1', 'AAAA record');

$p = ask('alias.example.test', 'A');
is(join(' ', map { $_->type } $p->answer), 'CNAME A',
    'CNAME followed inside the zone');

$p = ask('nullmx.test', 'MX');
my ($mx) = $p->answer;
ok($mx && $mx->preference == 0 && $mx->exchange =~ /^\.?$/,
    'null MX is preference 0, exchange "."');

$p = ask('nowhere.test', 'MX');
is($p->header->rcode, 'NXDOMAIN', 'name not in the zone: NXDOMAIN');

$p = ask('mx1.example.test', 'MX');
is($p->header->rcode, 'NOERROR', 'no record of that type: NOERROR');
is(scalar($p->answer), 0, '... with no answer (NODATA)');
is(join(',', map { $_->type } $p->authority), 'SOA', '... and an SOA');

is(ask('servfail.test', 'MX')->header->rcode, 'SERVFAIL', 'SERVFAIL');
is(ask('refused.test', 'A')->header->rcode, 'REFUSED', 'REFUSED');

$p = ask('trunc.test', 'MX');
ok($p && $p->header->tc, 'TRUNCATE sets TC');
is(scalar($p->answer), 0, '... with no records');

is(ask('partial.test', 'MX')->header->rcode, 'SERVFAIL',
    'pseudo-type limited to MX applies to MX');
is(join(',', map { $_->address } ask('partial.test', 'A')->answer),
    '127.0.0.3', '... and not to A');

# Raw UDP exchange: (reply bytes or undef, query id, seconds).
sub raw_ask {
	my ($name, $type, $wait) = @_;
	my $s = IO::Socket::IP->new(PeerHost => '127.0.0.1',
	    PeerPort => $dns->port, Proto => 'udp') or die "udp: $@";
	my $q = Net::DNS::Packet->new($name, $type);
	my $start = time;
	$s->send($q->data);
	my $buf;
	if (IO::Select->new($s)->can_read($wait)) {
		$s->recv($buf, 65535);
	}
	return ($buf, $q->header->id, time - $start);
}

my ($buf, $id, $secs) = raw_ask('timeout.test', 'MX', 1);
ok(!defined $buf, 'TIMEOUT: no answer within 1 s');

($buf, $id) = raw_ask('crafted.test', 'MX', 2);
ok(defined $buf && length($buf) > 18, 'CRAFTED: a reply arrives');
is(unpack('n', $buf // "\0\0"), $id, '... with the query id');
is(unpack('n', substr($buf // '', 4, 2)), 1, '... one question');
my $first = ord(substr($buf // "\0" x 13, 12, 1));
is($first & 0xC0, 0xC0, '... whose name is a compression pointer');
my $target = unpack('n', substr($buf // "\0" x 14, 12, 2)) & 0x3FFF;
is(substr($buf // '', $target, 14), "\x07crafted\x04test\0",
    '... pointing at the query name later in the packet');

($buf, $id) = raw_ask('garbage.test', 'A', 2);
ok(defined $buf && length($buf) > 2, 'GARBAGE: a reply arrives');
is(unpack('n', $buf // "\0\0"), $id, '... starting with the query id');

($buf, $id, $secs) = raw_ask('late.test', 'MX', 3);
ok(defined $buf, 'DELAY: the answer arrives');
cmp_ok($secs, '>=', 0.9, '... after the delay');

is(scalar($dns->queries('example.test', 'MX')), 1,
    'query log counts one MX query for example.test');
is(scalar($dns->queries('timeout.test')), 1,
    'unanswered queries are logged too');
like($dns->log_text, qr/^mx1\.example\.test AAAA$/m,
    'log lines are "qname qtype", lower-case');

$dns->reload("reloaded.test A 127.0.0.9\n");
is(join(',', map { $_->address } ask('reloaded.test', 'A')->answer),
    '127.0.0.9', 'SIGHUP reloads the zone');
is(ask('example.test', 'MX')->header->rcode, 'NXDOMAIN',
    '... and the old names are gone');

my $dpid = $dns->pid;
is($dns->stop, 0, 'SIGTERM: dnsfix exits 0');
ok(!kill(0, $dpid), '... and is gone');

# ------------------------------------------------------------ SMTP

my @profiles = qw(greet554 greet421 greetdelay=1 greetas=savd.test tarpit
    dropgreet garbage multiline noehlo blockhelo nopipelining rejectnull
    mail421 mail451 catchall drop-after-mail);
my %ip;
my $n = 10;
$ip{$_} = '127.0.0.' . $n++ for @profiles;
my $have6 = IO::Socket::IP->new(LocalHost => '::1', LocalPort => 0,
    Listen => 1) ? 1 : 0;
my $smtp = start_smtp(listen => ['127.0.0.2', (map { $ip{$_} } @profiles),
    ($have6 ? '[::1]' : ())], slow => 1,
    profile => { map { $ip{$_} => $_ } @profiles });
like($smtp->port, qr/^\d+$/, 'smtpfix started on one port for '
    . (2 + @profiles) . ' addresses');

sub sconnect {
	my ($ip, $port) = @_;
	my $s = IO::Socket::IP->new(PeerHost => $ip,
	    PeerPort => $port // $smtp->port,
	    Timeout => 3) or die "connect $ip: $@";
	return Savd::Client->new($s);
}

# One whole reply (continuation lines joined by "\n"), '' if none.
sub reply {
	my ($c, $t) = @_;
	my @l;
	while (defined(my $l = $c->readline($t // 3))) {
		$l =~ s/\r$//;
		push @l, $l;
		last unless $l =~ /^\d{3}-/;
	}
	return join("\n", @l);
}

sub cmd {
	my ($c, $line, $t) = @_;
	$c->send("$line\r\n");
	return reply($c, $t);
}

# A default session up to RCPT; returns the RCPT reply.
sub rcpt {
	my ($rcpt, $ip, $t) = @_;
	my $c = sconnect($ip // '127.0.0.2');
	reply($c);
	cmd($c, 'EHLO savd.test');
	cmd($c, 'MAIL FROM:<>');
	my $r = cmd($c, "RCPT TO:<$rcpt>", $t);
	return wantarray ? ($r, $c) : $r;
}

my $c = sconnect('127.0.0.2');
like(reply($c), qr/^220 fixture\.test ESMTP/, 'default: 220 greeting');
my $ehlo = cmd($c, 'EHLO savd.test');
like($ehlo, qr/^250-fixture\.test/, 'default: EHLO answered 250');
like($ehlo, qr/^250-PIPELINING$/m, '... advertising PIPELINING');
like(cmd($c, 'RCPT TO:<bob@x.test>'), qr/^503 /, 'RCPT before MAIL: 503');
like(cmd($c, 'MAIL FROM:<>'), qr/^250 /, 'MAIL FROM:<> 250');
like(cmd($c, 'RCPT TO:<bob@x.test>'), qr/^250 2\.1\.5 /, 'listed user: 250');
like(cmd($c, 'RCPT TO:<Alice@x.test>'), qr/^250 /,
    'listed user, other case: 250');
like(cmd($c, 'RCPT TO:<unknown7@x.test>'),
    qr/^550 5\.1\.1 <unknown7\@x\.test>: Recipient address rejected: User unknown$/,
    'unknown*: 550 5.1.1 User unknown');
like(cmd($c, 'RCPT TO:<probe-q8z3k@x.test>'), qr/^550 5\.1\.1 /,
    'local part not in --users: 550');
like(cmd($c, 'RCPT TO:<grey1@x.test>'),
    qr/^451 4\.7\.1 Greylisted, try again later$/, 'grey*: 451 4.7.1');
like(cmd($c, 'RCPT TO:<r552x@x.test>'), qr/^552 5\.0\.0 /,
    'rNNN: scripted code');
$t0 = time;
like(cmd($c, 'RCPT TO:<slow@x.test>', 4), qr/^250 /, 'slow*: 250');
cmp_ok(time - $t0, '>=', 0.9, '... after --slow seconds');
like(cmd($c, 'RCPT TO:<garbage@x.test>'), qr/^[^0-9]/,
    'garbage*: a non-SMTP line');
like(cmd($c, 'RSET'), qr/^250 /, 'RSET 250');
like(cmd($c, 'QUIT'), qr/^221 /, 'QUIT 221');
ok(($c->wait_eof(3))[0], '... then the server closes');

my ($rr, $cc) = rcpt('r421@x.test');
like($rr, qr/^421 4\.7\.0 /, 'r421*: 421');
ok(($cc->wait_eof(3))[0], '... then close');
($rr, $cc) = rcpt('drop@x.test');
is($rr, '', 'drop*: no answer');
ok($cc->eof, '... the connection is closed');
($rr, $cc) = rcpt('tarpit@x.test', undef, 0.7);
is($rr, '', 'tarpit*: no answer');
ok(!$cc->eof, '... and the connection stays open');
$cc->close;

# Pipelined commands in one write are answered in order.
$c = sconnect('127.0.0.2');
reply($c);
$c->send("EHLO a\r\nMAIL FROM:<a\@b.test>\r\nRCPT TO:<bob\@x.test>\r\n"
    . "RCPT TO:<unknown\@x.test>\r\nQUIT\r\n");
my @codes = map { substr(reply($c), 0, 3) } 1 .. 5;
is("@codes", '250 250 250 550 221', 'pipelined commands answered in order');
$c->close;

# Profiles.
$c = sconnect($ip{greet554});
like(reply($c), qr/^554 /, 'greet554: 554 greeting');
like(cmd($c, 'EHLO a'), qr/^503 /, '... then 503 to commands');
like(cmd($c, 'QUIT'), qr/^221 /, '... and 221 to QUIT');

$c = sconnect($ip{greet421});
like(reply($c), qr/^421 /, 'greet421: 421 greeting');
ok(($c->wait_eof(3))[0], '... then close');

$c = sconnect($ip{'greetdelay=1'});
ok($c->quiet_for(0.7), 'greetdelay=1: silent at first');
like(reply($c, 2), qr/^220 /, '... then the greeting');

$c = sconnect($ip{'greetas=savd.test'});
like(reply($c), qr/^220 savd\.test ESMTP/, 'greetas=NAME: banner names NAME');

$c = sconnect($ip{tarpit});
$c->send("EHLO a\r\n");
ok($c->quiet_for(0.7), 'tarpit: never speaks');

$c = sconnect($ip{dropgreet});
my ($eof, $data) = $c->wait_eof(3);
ok($eof && $data eq '', 'dropgreet: closed without a word');

$c = sconnect($ip{garbage});
unlike(reply($c), qr/^\d{3}[ -]/, 'garbage: non-SMTP banner');

$c = sconnect($ip{multiline});
like(reply($c), qr/^220-.*\n220-.*\n220 /, 'multiline: multi-line greeting');
cmd($c, 'HELO a');
cmd($c, 'MAIL FROM:<>');
like(cmd($c, 'RCPT TO:<unknown@x.test>'), qr/^550-5\.1\.1 .*\n550.*\n550 /,
    '... and multi-line RCPT replies');

$c = sconnect($ip{noehlo});
reply($c);
like(cmd($c, 'EHLO a'), qr/^500 /, 'noehlo: EHLO 500');
like(cmd($c, 'HELO a'), qr/^250 /, '... HELO 250');

$c = sconnect($ip{blockhelo});
reply($c);
like(cmd($c, 'EHLO a'), qr/^550 /, 'blockhelo: EHLO 550');
like(cmd($c, 'HELO a'), qr/^550 /, '... HELO 550');

$c = sconnect($ip{nopipelining});
reply($c);
unlike(cmd($c, 'EHLO a'), qr/PIPELINING/, 'nopipelining: not advertised');

$c = sconnect($ip{rejectnull});
reply($c);
cmd($c, 'EHLO a');
like(cmd($c, 'MAIL FROM:<>'), qr/^550 5\.7\.1 /, 'rejectnull: <> gets 550');
like(cmd($c, 'MAIL FROM:<a@b.test>'), qr/^250 /, '... a real sender 250');

$c = sconnect($ip{mail421});
reply($c);
cmd($c, 'EHLO a');
like(cmd($c, 'MAIL FROM:<>'), qr/^421 /, 'mail421: MAIL 421');
ok(($c->wait_eof(3))[0], '... then close');

$c = sconnect($ip{mail451});
reply($c);
cmd($c, 'EHLO a');
like(cmd($c, 'MAIL FROM:<>'), qr/^451 /, 'mail451: MAIL 451');

is(scalar(rcpt('zz-random-9f8e@x.test', $ip{catchall})) =~ /^250 / ? 1 : 0,
    1, 'catchall: a random local part gets 250');
like(scalar(rcpt('unknown@x.test', $ip{catchall})), qr/^250 /,
    '... every RCPT gets 250');

$c = sconnect($ip{'drop-after-mail'});
reply($c);
cmd($c, 'EHLO a');
is(cmd($c, 'MAIL FROM:<>'), '', 'drop-after-mail: no answer to MAIL');
ok($c->eof, '... the connection is closed');

SKIP: {
	skip 'no IPv6 loopback', 1 unless $have6;
	$c = sconnect('::1');
	like(reply($c), qr/^220 /, 'IPv6 listener greets');
}

# Many clients at once.
my @many = map { sconnect('127.0.0.2') } 1 .. 50;
my $greeted = grep { reply($_) =~ /^220 / } @many;
is($greeted, 50, '50 concurrent clients all greeted');
$_->close for @many;

# Log.
$c = sconnect('127.0.0.2');
reply($c);
$c->send("NOOP\0x\ty\r\n");
reply($c);
$c->send("NOOP bare\n");
reply($c);
$c->send("QUIT\r\n");
reply($c);
$c->wait_eof(3);
wait_for(sub { $smtp->log_text =~ /C: QUIT\n(?:S: .*\n)+CLOSE\n\z/ }, 3);
my $log = $smtp->log_text;
like($log, qr/^CONNECT 127\.0\.0\.1:\d+ -> 127\.0\.0\.2$/m,
    'log: CONNECT peer -> local address');
like($log, qr/^C: NOOP\\0x\\x09y$/m, 'log: NUL and TAB escaped');
like($log, qr/^C: NOOP bare\\n$/m, 'log: a bare-LF line shows its \n');
like($log, qr/^S: 221 2\.0\.0 Bye$/m, 'log: replies with "S: "');
like($log, qr/^CLOSE$/m, 'log: CLOSE');
is(sessions_to($smtp, $ip{tarpit}), 1, 'sessions_to counts one tarpit session');
is(sessions_to($smtp->log_file, $ip{greet554}), 1,
    'sessions_to takes a file name too');
cmp_ok(sessions_to($smtp, '127.0.0.2'), '>=', 50,
    'sessions_to counts the default sessions');
ok((grep { $_ eq 'MAIL FROM:<>' } $smtp->commands($ip{rejectnull})),
    'smtp_commands lists commands per address');

my $tagged = start_smtp(listen => ['127.0.0.2'], tag => 1, accept_all => 1);
my @tc = map { sconnect('127.0.0.2', $tagged->port) } 1 .. 2;
reply($_) for @tc;
cmd($tc[1], 'HELO second');
cmd($tc[0], 'HELO first');
cmd($tc[0], 'MAIL FROM:<>');
like(cmd($tc[0], 'RCPT TO:<anybody@x.test>'), qr/^250 /,
    'without --users every local part is accepted');
$_->close for @tc;
my $sess = $tagged->sessions;
is(scalar(@$sess), 2, '--tag: two sessions parsed');
is_deeply([grep { /^C: HELO/ } @{ $sess->[0]{lines} }], ['C: HELO first'],
    '--tag: interleaved lines go to the right session');

# Lifetime.
sub running {       # alive and not a zombie
	my ($pid) = @_;
	return 0 unless kill(0, $pid);
	my $st = Savd::slurp("/proc/$pid/stat");
	return $st !~ /^\d+ \(.*\) Z/;
}

my $spid = $smtp->pid;
is($smtp->stop, 0, 'SIGTERM: smtpfix exits 0');
ok(!kill(0, $spid), '... and is gone');

for my $f (['dnsfix.pl', '--zone', '/dev/null'],
    ['smtpfix.pl', '--listen', '127.0.0.2']) {
	my $dir = tempdir();
	my $script = shift @$f;
	# sh starts the fixture in the background and exits 1 s later.
	my $out = run_cmd(['sh', '-c', "'$^X' '$Savd::LIB/$script' @$f "
	    . "--port-file $dir/port >/dev/null 2>&1 & echo \$!; sleep 1"]);
	my ($orphan) = $out->{out} =~ /(\d+)/;
	ok($orphan && wait_for(sub { !running($orphan) }, 5),
	    "$script exits when its parent is gone");
	kill('KILL', $orphan) if $orphan;
}

done_testing();
