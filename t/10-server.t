#!/usr/bin/perl
# 10-server.t - the socket protocol of doc/protocol.md sections 1-3 without
# DNS or SMTP: connection rules, request parsing, response format.
# Addresses in skip_domains answer "unknown skipped" without any network,
# so every verification here is decided by policy alone.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time);
use Savd qw(:all);

my $dns = start_dns("slowdns.test TIMEOUT\n");
my $tcp = free_port();
my $d = start_savd(dns => $dns, conf => {
	skip_domains => 'skip.test, *.skip.test',
	listen => "127.0.0.1:$tcp",
});


sub answers {
	my ($req, $want, $name) = @_;
	has_fields($d->query($req), $want, $name);
}

# ---------------------------------------------------------------- basics

# Every answer line of $data carries $want; $n lines, each ending in LF.
sub all_ok {
	my ($data, $n, $want, $name) = @_;
	my @l = split(/\n/, $data // '', -1);
	my $tail = pop @l;
	my @bad = grep { my $r = parse_response($_);
	    grep { my ($k, $v) = split(/=/, $_, 2); ($r->{$k} // '') ne $v }
	    split(/ /, $want) } @l;
	ok(@l == $n && $tail eq '' && !@bad, $name)
	    or diag('got: ' . ($data // '(nothing)'));
}

my ($data, $eof, $secs) = $d->raw("PING\n");
all_ok($data, 1, 'result=ok reason=pong',
    'PING answers one line "result=ok reason=pong"');
ok($eof, '... and the server closes after the half-close');
cmp_ok($secs, '<', 2, '... at once, not at the idle timeout');

answers('ping', 'result=ok reason=pong', 'verbs are case-insensitive');
answers('PiNg', 'result=ok reason=pong', '... in any mix of case');

all_ok(scalar($d->raw("PING\r\n")), 1, 'result=ok reason=pong',
    'a CR before the LF is ignored');
all_ok(scalar($d->raw('PING')), 1, 'result=ok reason=pong',
    'a last request without LF is processed at the half-close');
all_ok(scalar($d->raw("PING\nPING")), 2, 'result=ok reason=pong',
    '... also after a pipelined one');

SKIP: {
	my $s = $d->connect(tcp => "127.0.0.1:$tcp");
	skip "no TCP listener on 127.0.0.1:$tcp", 1 unless $s;
	close($s);
	all_ok(scalar($d->raw("PING\n", tcp => "127.0.0.1:$tcp")), 1,
	    'result=ok reason=pong', 'the TCP listener speaks the protocol');
}

# ---------------------------------------------------------------- QUIT

my $c = $d->session;
$c->send("QUIT\n");
has_fields($c->readline(3), 'result=ok reason=bye', 'QUIT answers ok bye');
($eof) = $c->wait_eof(3);
ok($eof, '... then the server closes, without a half-close from us');
$c->close;

my @l = $d->lines('PING', 'quit', 'PING', 'STATS');
is(scalar(@l), 2, 'requests after QUIT are ignored');
has_fields($l[1], 'result=ok reason=bye', '... QUIT is case-insensitive too');

# ---------------------------------------------------------------- pipelining

@l = $d->lines('PING', 'STATS', 'HEALTH', 'SENDER <a@skip.test>',
    'SENDER <>', 'BOGUS', 'PING');
is(scalar(@l), 7, 'seven pipelined requests in one write: seven answers');
has_fields($l[0], 'result=ok reason=pong', '... 1st is the PING');
like($l[1] // '', qr/^result=ok .*\buptime=\d+/, '... 2nd is the STATS');
like($l[2] // '', qr/^result=ok .*\bstatus=/, '... 3rd is the HEALTH');
has_fields($l[3], 'result=unknown reason=skipped', '... 4th is the SENDER');
has_fields($l[4], 'result=ok reason=null', '... 5th is the null SENDER');
has_fields($l[5], 'result=error reason=badrequest', '... 6th is the error');
has_fields($l[6], 'result=ok reason=pong', '... 7th is the last PING');

# A slow request first: the quick one behind it must wait its turn.
@l = $d->lines('SENDER <a@slowdns.test> timeout=1', 'PING', { timeout => 8 });
is(scalar(@l), 2, 'slow request then PING: two answers');
like($l[0] // '', qr/^result=(ok|fail|defer|unknown) /,
    '... the first answer is the SENDER\'s');
unlike($l[0] // '', qr/reason=pong/, '... not the PING\'s');
has_fields($l[1], 'result=ok reason=pong', '... the PING is answered second');

# Without a half-close the connection stays open for more requests.
$c = $d->session;
$c->send("PING\n");
has_fields($c->readline(3), 'result=ok reason=pong', 'interactive client: PING');
ok($c->quiet_for(0.3), '... the server keeps the connection open');
$c->send("PING\r\nPING\n");
has_fields($c->readline(3), 'result=ok reason=pong',
    '... second request answered');
has_fields($c->readline(3), 'result=ok reason=pong', '... and the third');
$c->close;

# ---------------------------------------------------------------- bad input

my @ctl = (["PI\0NG", 'NUL'], ["PING\x01", 'SOH'], ["PI\rNG", 'CR inside'],
    ["PING\x1b", 'ESC'], ["PING\x0b", 'VT'], ["PING\x7f", 'DEL'],
    ["SENDER <a\0\@skip.test>", 'NUL in the address'],
    ["SENDER <a\@skip.test>\x0c", 'FF after the address']);
$c = $d->session;
for my $t (@ctl) {
	$c->send("$t->[0]\n");
	has_fields($c->readline(3), 'result=error reason=badrequest code=500',
	    "$t->[1]: error badrequest code=500");
}
$c->send("PING\n");
has_fields($c->readline(3), 'result=ok reason=pong',
    'the connection stays usable after error answers');
$c->close;

answers("SENDER\t<a\@skip.test>", 'result=unknown reason=skipped',
    'TAB separates fields');
answers("SENDER  \t <a\@skip.test>   id=x1", 'result=unknown reason=skipped',
    'runs of spaces and tabs separate fields');

answers('HELLO', 'result=error reason=badrequest code=500',
    'unknown verb: error badrequest');
answers('VERIFY a@skip.test', 'result=error reason=badrequest',
    'unknown verb with an argument: error badrequest');
answers('SENDER <a@skip.test> foo=bar', 'result=error reason=badrequest',
    'unknown option: error badrequest');
answers('RECIPIENT <a@skip.test> nosuch=1', 'result=error reason=badrequest',
    'unknown RECIPIENT option: error badrequest');
answers('SENDER foo=bar', 'result=error reason=badrequest',
    'SENDER with only an unknown option: error badrequest');
answers('SENDER <a@skip.test> cache=maybe', 'result=error reason=badrequest',
    'bad cache= value: error badrequest');
answers('RECIPIENT', 'result=error reason=badrequest',
    'RECIPIENT without an address: error badrequest');
answers('RECIPIENT <>', 'result=error reason=badrequest',
    'RECIPIENT with the null address: error badrequest');

for my $a ('<nobody>', 'nobody@', '<@skip.test>', '<a..b@skip.test>',
    '<a@b@skip.test>', '<.a@skip.test>', '<' . ('x' x 257) . '@skip.test>',
    '<a@skip..test>') {
	answers("SENDER $a", 'result=fail reason=syntax code=501 source=policy',
	    "SENDER $a: fail syntax code=501");
}
answers('RECIPIENT <a@-bad.skip.test>', 'result=fail reason=syntax code=501',
    'RECIPIENT with a bad domain label: fail syntax');

# ---------------------------------------------------------------- addresses

answers('SENDER <>', 'result=ok reason=null code=250 source=policy',
    'SENDER <>: ok null');
answers('SENDER', 'result=ok reason=null code=250',
    'bare SENDER: ok null');
answers('SENDER id=abc', 'result=ok reason=null',
    'SENDER with only an option (id=abc): ok null');
answers('SENDER timeout=5 client=192.0.2.1 helo=x.example',
    'result=ok reason=null', 'SENDER with only options: ok null');
answers('SENDER <> id=t10', 'result=ok reason=null',
    'SENDER <> with an option: ok null');

answers('SENDER <a@skip.test>',
    'result=unknown reason=skipped code=250 source=policy',
    'skipped domain: unknown skipped code=250 source=policy');
answers('SENDER a@skip.test', 'result=unknown reason=skipped',
    'bare address works like a bracketed one');
answers('RECIPIENT <a@sub.skip.test>', 'result=unknown reason=skipped',
    'RECIPIENT in a skipped subdomain: unknown skipped');
answers('SENDER <a@SKIP.Test>', 'result=unknown reason=skipped',
    'domains compare case-insensitively');
answers('SENDER <srs0=ab12=XY=example.org=bob@skip.test>',
    'result=unknown reason=skipped',
    'local part with "=" (SRS) is an address, not an option');
answers('SENDER <"a b"@skip.test>', 'result=unknown reason=skipped',
    'quoted local part with a space is valid');
answers('RECIPIENT <a@skip.test> from=<b@skip.test> cache=no id=1',
    'result=unknown reason=skipped', 'RECIPIENT with from=, cache=no, id=');

# ---------------------------------------------------------------- timeout=

answers('SENDER <a@skip.test> timeout=1', 'result=unknown reason=skipped',
    'timeout=1 is accepted');
answers('SENDER <a@skip.test> timeout=300', 'result=unknown reason=skipped',
    'timeout=300 is accepted');
for my $t (qw(0 301 -1 abc 1.5), '') {
	answers("SENDER <a\@skip.test> timeout=$t",
	    'result=error reason=badrequest', "timeout=$t: error badrequest");
}

# A normal domain: the answer must arrive by the deadline, whatever it is.
my $t0 = time;
my $line = $d->query('SENDER <a@slowdns.test> timeout=2', timeout => 8);
like($line // '', qr/^result=(ok|fail|defer|unknown) /,
    'SENDER to a domain whose DNS never answers: a verdict');
cmp_ok(time - $t0, '<', 4, '... no later than about timeout=2');

# ---------------------------------------------------------------- format

$line = $d->query('SENDER <a@skip.test>');
like($line, qr/^result=\S+( [a-z_]+=(\S*|"(?:[^"\\]|\\.)*"))*$/,
    'response is key=value fields, result first');
like(scalar($d->raw("SENDER <a\@skip.test>\n")), qr/\n\z/,
    'response ends with LF');
if (($line // '') =~ / text="/) {
	like($line, qr/ text="(?:[^"\\]|\\.)*"$/, 'text= is quoted and last');
} else {
	pass('no text= field in this answer');
}

# ---------------------------------------------------------------- STATS

my $s1 = $d->stats;
is($s1->{result}, 'ok', 'STATS: result=ok');
for my $k (qw(uptime requests cache_hits cache_misses callouts inflight
    clients)) {
	like($s1->{$k} // '', qr/^\d+$/, "STATS has a numeric $k");
}
cmp_ok($s1->{clients} // 0, '>=', 1, 'STATS counts this client');
$d->query('PING');
my $s2 = $d->stats;
cmp_ok($s2->{requests} // 0, '>', $s1->{requests} // 0,
    'STATS requests grows');

# ---------------------------------------------------------------- HEALTH

my $h = parse_response($d->query('HEALTH'));
is($h->{result}, 'ok', 'HEALTH: result=ok');
like($h->{status} // '', qr/^(ok|warning|critical)$/,
    'HEALTH: status=ok|warning|critical');

# ---------------------------------------------------------------- socket

my $mode = (stat($d->sock))[2];
ok(defined $mode && -S $d->sock, 'the UNIX socket exists');
is(sprintf('%04o', ($mode // 0) & 07777), '0660',
    'the socket has the default mode 0660');

answers('PING', 'result=ok reason=pong', 'still alive at the end');
is($d->stop, 0, 'SIGTERM: savd exits 0');

done_testing();
