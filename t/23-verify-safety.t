#!/usr/bin/perl
# 23-verify-safety.t - hostile input on every side.  From clients: CR, LF,
# NUL and other control bytes in addresses and options must give `error
# badrequest` or `fail syntax`, and nothing but EHLO/HELO, MAIL FROM, RCPT
# TO, RSET and QUIT may ever reach an SMTP server (checked in the fixture
# log).  From DNS: the crafted reply that overflows udns's stock parsers,
# random garbage; the daemon answers `defer dnsfail` and lives on.  From
# SMTP: garbage and dropped connections give `defer`.  Target filtering:
# IPv4-mapped and loopback addresses outside allow_networks are never
# connected to.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Savd qw(:all);

my $zone = <<'EOF';
ok.test            MX   10 mx.ok.test
mx.ok.test         A    127.0.0.2
crafted.test       CRAFTED
craftedmx.test     MX   10 mx.crafted.test
mx.crafted.test    CRAFTED
craftedaaaa.test   MX   10 mx.craftedaaaa.test
mx.craftedaaaa.test A   127.0.0.2
mx.craftedaaaa.test CRAFTED AAAA
garbage.test       GARBAGE
garbagemx.test     MX   10 mx.garbage.test
mx.garbage.test    GARBAGE
mapped.test        MX   10 mx.mapped.test
mx.mapped.test     AAAA ::ffff:127.0.0.5
mixed.test         MX   10 mx.mixed.test
mx.mixed.test      A    127.0.0.5
mx.mixed.test      A    127.0.0.2
selfv6.test        MX   10 mx.selfv6.test
mx.selfv6.test     AAAA ::1
sshgreet.test      MX   10 mx.sshgreet.test
mx.sshgreet.test   A    127.0.0.6
EOF

my $dir = tempdir();
my $dns = start_dns($zone, dir => $dir);
my $smtp = start_smtp(dir => $dir, tag => 1,
    listen => ['127.0.0.2', '127.0.0.5', '127.0.0.6', '[::1]'],
    profile => { '127.0.0.6' => 'garbage' });
my $d = start_savd(dir => $dir, dns => $dns, smtp => $smtp, conf => {
	allow_networks => '127.0.0.2/32, 127.0.0.6/32',
	command_timeout => '2s',
	connect_timeout => '2s',
	dns_timeout => '1s',
	dns_retries => 0,
	answer_timeout => '8s',
	domain_rate => '1000/1m',
});


sub esc {
	my ($s) = @_;
	$s =~ s/([\x00-\x1f\x7f])/sprintf('\\x%02X', ord $1)/ge;
	return $s;
}

# ---------------------------------------------------------------- injection

# Raw request bytes (one request: no LF inside) -> must be refused.
my @one = (
    "SENDER <alice\@ok.test>\rRSET",
    "SENDER <alice\@ok.test\r>",
    "RECIPIENT <bob\@ok.test>\0DATA",
    "RECIPIENT <bob\0\@ok.test>",
    "RECIPIENT <bob\@ok.test>\0",
    "RECIPIENT <bob\@ok.test> from=<x\@y.test>\rDATA",
    "RECIPIENT <bob\@ok.test> from=<x\@y.test\rDATA>",
    "RECIPIENT <bob\@ok.test> from=<x\0\@y.test>",
    "SENDER <alice\@ok.test\x0bRSET>",
    "SENDER <alice\@ok.test\x1b>",
    "SENDER <alice\@ok.test\x7f>",
    "SENDER <\"a\rRSET\"\@ok.test>",
    "RECIPIENT <bob\@ok.test> helo=a\rb",
    "RECIPIENT <bob\@ok.test> client=\x01",
    "RECIPIENT <bob\@ok.test> id=x\0y",
);
for my $req (@one) {
	fields_ok('refused: ' . esc($req), $d->query($req),
	    result => 'error', reason => 'badrequest', code => 500);
}

# Requests that are well-formed lines but carry SMTP-looking junk: error
# badrequest or fail syntax, never a callout with it.
my @junk = (
    'RECIPIENT <bob@ok.test> from=<x@y.test> SIZE=99999999',
    'RECIPIENT <bob@ok.test> RCPT',
    'RECIPIENT <bob@ok.test>RCPT TO:<evil@ok.test>',
    'RECIPIENT <bob@ok.test><evil@ok.test>',
    'RECIPIENT <bob@ok.test',
    'RECIPIENT bob@ok.test>',
    'RECIPIENT <bob@ok.test> from=<x@y.test',
    'RECIPIENT <bob@ok.test> from=<x@y.test>>',
    'RECIPIENT <bob@ok.test> from=<<evil@ok.test>',
    'RECIPIENT <bob@ok.test> from=x@y.test>DATA',
    'SENDER <alice@ok.test> timeout=0',
    'SENDER <alice@ok.test> timeout=301',
    'SENDER <alice@ok.test> timeout=1x',
    'SENDER <evil@ok.test\\r\\nDATA>',
);
for my $req (@junk) {
	my $line = $d->query($req, timeout => 10);
	my $r = parse_response($line) // {};
	my $rr = join(' ', $r->{result} // '-', $r->{reason} // '-');
	ok($rr eq 'error badrequest' || $rr eq 'fail syntax',
	    "error badrequest or fail syntax: $req")
	    or diag('got: ' . ($line // '(no answer)'));
}

# A request split by a LF is two requests; each part stands alone.
my @l = $d->lines("RECIPIENT <bob\@ok.test> from=<x\@y.test\r\n"
    . "RCPT TO:<evil\@ok.test>>", "SENDER <\"a\r\nRSET\"\@ok.test>",
    { timeout => 10 });
is(scalar(@l), 4, 'CRLF inside a request: one answer per line');
my @bad = grep { !/^result=(error reason=badrequest|fail reason=syntax)\b/ }
    @l;
ok(!@bad, '... each line refused as badrequest or syntax')
    or diag(join("\n", @l));

# Valid but unusual addresses go out exactly as given.
fields_ok('quoted local part with a space: a callout',
    $d->query('RECIPIENT <"a b"@ok.test>', timeout => 10),
    result => 'fail', reason => 'rejected', code => 550);
fields_ok('SRS local part with "=": a callout',
    $d->query('RECIPIENT <SRS0=HHH=TT=example.org=bob@ok.test>',
    timeout => 10), result => 'fail', reason => 'rejected');
fields_ok('a plain good address still works', $d->query(
    'RECIPIENT <bob@ok.test> from=<x@y.test>', timeout => 10),
    result => 'ok', reason => 'accepted');

my @cmds = $smtp->commands;
my @odd = grep { !/^(EHLO|HELO) savd\.test$/ && !/^MAIL FROM:<[^<>]*>$/
    && !/^RCPT TO:<(?:[^<>"]|"[^"]*")*>$/ && !/^(RSET|QUIT)$/ } @cmds;
ok(@cmds && !@odd, 'the fixture received only EHLO/HELO, MAIL, RCPT, '
    . 'RSET, QUIT') or diag(join("\n", 'unexpected:', @odd));
ok(!(grep { /\\(r|n|0|x[0-9A-F]{2})/ } @cmds),
    '... with no control byte in any of them');
ok(!(grep { /evil|DATA|SIZE=|RSET"/ } @cmds),
    '... and none of the injected text');
ok(!(grep { /^P: / } map { @{ $_->{lines} } } @{ $smtp->sessions }),
    '... and no unterminated command line');
my @rcpt = sort grep { /^RCPT TO:<(?!"a b"|SRS0|bob@)/ } @cmds;
ok(!(grep { !/^RCPT TO:<[a-z0-9]+\@ok\.test>$/ } @rcpt),
    '... RCPTs other than the three asked for are catch-all probes')
    or diag(join("\n", @rcpt));
my @rq = grep { /^RCPT TO:<("a b"|SRS0|bob@)/ } @cmds;
is_deeply([sort @rq], [sort 'RCPT TO:<"a b"@ok.test>',
    'RCPT TO:<SRS0=HHH=TT=example.org=bob@ok.test>', 'RCPT TO:<bob@ok.test>'],
    '... the three addresses reached the fixture verbatim');

# ---------------------------------------------------------------- DNS

for my $c (['crafted MX reply', 'crafted.test'],
    ['crafted A/AAAA reply for the MX host', 'craftedmx.test'],
    ['random garbage MX reply', 'garbage.test'],
    ['random garbage A/AAAA reply for the MX host', 'garbagemx.test']) {
	fields_ok("$c->[0]: defer dnsfail",
	    $d->query("SENDER <alice\@$c->[1]>", timeout => 10),
	    result => 'defer', reason => 'dnsfail', code => 451);
	fields_ok('... and savd answers PING after it', $d->query('PING'),
	    result => 'ok', reason => 'pong');
}
my $r = fields_ok('crafted AAAA reply, good A record: no crash',
    $d->query('SENDER <alice@craftedaaaa.test>', timeout => 10),
    result => qr/^(ok|defer)$/);
fields_ok('... and savd answers PING after it', $d->query('PING'),
    result => 'ok', reason => 'pong');

# ---------------------------------------------------------------- SMTP

fields_ok('an SSH banner instead of a greeting: defer',
    $d->query('SENDER <alice@sshgreet.test>', timeout => 10),
    result => 'defer', reason => 'tempfail', code => qr/^4\d\d$/);
fields_ok('an HTTP line in answer to RCPT: defer tempfail',
    $d->query('RECIPIENT <garbage1@ok.test>', timeout => 10),
    result => 'defer', reason => 'tempfail', code => qr/^4\d\d$/);
fields_ok('connection dropped at RCPT: defer tempfail',
    $d->query('RECIPIENT <drop1@ok.test>', timeout => 10),
    result => 'defer', reason => 'tempfail', code => qr/^4\d\d$/);

# ---------------------------------------------------------------- filtering

fields_ok('MX on an IPv4-mapped address ::ffff:127.0.0.5: fail bogusmx',
    $d->query('SENDER <alice@mapped.test>', timeout => 10),
    result => 'fail', reason => 'bogusmx', code => 550);
fields_ok('MX with a filtered and an allowed address: the allowed one',
    $d->query('SENDER <alice@mixed.test>', timeout => 10),
    result => 'ok', reason => 'accepted', mx => 'mx.mixed.test[127.0.0.2]');
fields_ok('MX on ::1, our own address, not in allow_networks: skipped',
    $d->query('SENDER <alice@selfv6.test>', timeout => 10),
    result => 'unknown', reason => 'skipped', code => 250);
# Last: a 421 makes savd back off from 127.0.0.2.
fields_ok('421 and close at RCPT: defer tempfail',
    $d->query('RECIPIENT <r421x@ok.test>', timeout => 10),
    result => 'defer', reason => 'tempfail', code => 421);
is($smtp->sessions_to('127.0.0.5'), 0, 'no connection to 127.0.0.5');
is($smtp->sessions_to('::1'), 0, 'no connection to ::1');

ok($d->alive, 'savd is still running');
done_testing();
