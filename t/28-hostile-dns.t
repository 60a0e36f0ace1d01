#!/usr/bin/perl
# 28-hostile-dns.t - replies from a broken or hostile nameserver (doc/protocol.md
# 3d): names beyond RFC 1035's limits and compression loops are dropped
# before udns sees them (the query then times out: defer dnsfail); every MX
# record counts, however many and in whatever order; a CNAME loop or an
# answer about another name is defer dnsfail, never NODATA (which would be
# the implicit MX and a `fail nomx` cached for hours).
#
# Raw replies are built here and served by dnsfix.pl's RAW pseudo-type.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(sleep);
use Savd qw(:all);

my ($MX, $A) = (15, 1);

sub wire {
	my ($name) = @_;
	return join('', map { chr(length $_) . $_ } split(/\./, $name)) . "\0";
}

# A name of labels of these lengths ("a" repeated), root included.
sub long_name { join('', map { chr($_) . ('a' x $_) } @_) . "\0" }

sub hdr { pack('n6', 0, 0x8580, @_) }
sub question { $_[0] . pack('n2', $_[1], 1) }
sub rr {
	my ($owner, $type, $rdata) = @_;
	return $owner . pack('n2 N n', $type, 1, 60, length $rdata) . $rdata;
}
my $QPTR = "\xc0\x0c";          # the question name

# A zone line: this packet to a TYPE query for name.
sub raw {
	my ($name, $type, $pkt) = @_;
	return "$name RAW $type " . unpack('H*', $pkt) . "\n";
}

my $zone = <<'EOF';
mx.ok.test         A     127.0.0.2
loop-a.test        CNAME loop-b.test
loop-b.test        CNAME loop-a.test
EOF

# An MX target of 256 octets on the wire (63+63+63+62 + 4 lengths + root).
$zone .= raw('long.test', 'MX', hdr(1, 1, 0, 0)
    . question(wire('long.test'), $MX)
    . rr($QPTR, $MX, pack('n', 10) . long_name(63, 63, 63, 62)));
# The same with 255 octets: legal, and no such host, so fail nomx.
$zone .= raw('long255.test', 'MX', hdr(1, 1, 0, 0)
    . question(wire('long255.test'), $MX)
    . rr($QPTR, $MX, pack('n', 10) . long_name(63, 63, 63, 61)));
# A 256-octet question name: udns decodes it before it looks at anything.
$zone .= raw('qlong.test', 'MX', hdr(1, 0, 0, 0)
    . question(long_name(63, 63, 63, 62), $MX));
# An MX target "a" + a pointer back to that "a": a compression loop.
{
	my $head = hdr(1, 1, 0, 0) . question(wire('cloop.test'), $MX);
	my $at = length($head) + 2 + 10 + 2;
	$zone .= raw('cloop.test', 'MX', $head
	    . rr($QPTR, $MX, pack('n', 10) . "\x01a" . pack('n', 0xc000 | $at)));
}
# A good MX, and a looping owner name in the additional section: udns
# would never look there, the checker does.
{
	my $head = hdr(1, 1, 0, 1) . question(wire('addloop.test'), $MX)
	    . rr($QPTR, $MX, pack('n', 10) . wire('mx.ok.test'));
	my $at = length($head);
	$zone .= raw('addloop.test', 'MX', $head
	    . rr("\x01x" . pack('n', 0xc000 | $at), $A, pack('C4', 127, 0, 0, 2)));
}
# An answer about another owner name.
$zone .= raw('foreign.test', 'MX', hdr(1, 1, 0, 0)
    . question(wire('foreign.test'), $MX)
    . rr(wire('elsewhere.test'), $MX, pack('n', 10) . wire('mx.ok.test')));

# 70 MX records; the only one with an address, and the most preferred,
# comes last in wire order.
$zone .= "many.test MX 20 mx$_.many.test\n" for 1 .. 69;
$zone .= "many.test MX 5 mx.ok.test\n";

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, listen => ['127.0.0.2']);
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	dns_timeout => '1s',
	dns_retries => 0,
	tempfail_ttl => '1s',
	answer_timeout => '10s',
	command_timeout => '2s',
	connect_timeout => '2s',
	max_mx_hosts => 5,
});

sub expect {
	my ($name, $req, %want) = @_;
	return fields_ok($name, $d->query($req, timeout => 12), %want);
}

sub mx_queries { scalar $dns->queries($_[0], 'MX') }

# ------------------------------------------------ names beyond the limits

expect('a 256-octet MX target: dropped, defer dnsfail',
    'RECIPIENT <bob@long.test>', result => 'defer', reason => 'dnsfail');
ok($d->alive, '... and savd is still running');
expect('a 255-octet MX target is legal (and no such host: fail nomx)',
    'RECIPIENT <bob@long255.test>', result => 'fail', reason => 'nomx');
expect('a 256-octet question name: dropped, defer dnsfail',
    'RECIPIENT <bob@qlong.test>', result => 'defer', reason => 'dnsfail');
expect('a compression loop in the MX target: defer dnsfail',
    'RECIPIENT <bob@cloop.test>', result => 'defer', reason => 'dnsfail');
expect('a compression loop in the additional section: defer dnsfail',
    'RECIPIENT <bob@addloop.test>', result => 'defer', reason => 'dnsfail');
like($d->log_text, qr/dropped before udns/, '... the drops are logged');

# ------------------------------------------------ every MX record counts

expect('70 MX records: the preferred one, last in wire order, is tried',
    'RECIPIENT <bob@many.test>', result => 'ok', reason => 'accepted',
    code => 250, mx => 'mx.ok.test[127.0.0.2]');

# ------------------------------------------------ not NODATA (3d)

for my $c (['a CNAME loop (a -> b -> a)', 'loop-a.test'],
    ['an answer about another name', 'foreign.test']) {
	my ($what, $dom) = @$c;
	expect("MX query answered with $what: defer dnsfail",
	    "RECIPIENT <bob\@$dom>", result => 'defer', reason => 'dnsfail',
	    source => 'dns');
	my $n = mx_queries($dom);
	sleep 1.5;      # tempfail_ttl
	expect("... nothing cached beyond tempfail_ttl: asked again",
	    "RECIPIENT <carol\@$dom>", result => 'defer', reason => 'dnsfail',
	    source => 'dns');
	is(mx_queries($dom), $n + 1, "... a new MX query for $dom");
}
ok($d->alive, 'savd survived every reply');
is($d->stop(10), 0, 'savd exits cleanly');

done_testing();
