#!/usr/bin/perl
# 33-hostile-servers.t - callout targets that misbehave (t/lib/hostilefix.pl,
# one behaviour per loopback address).  Every question is answered before
# its deadline with a defined result; garbage never becomes `ok` or
# `fail`; savd's descriptors go back to where they were.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use Savd qw(:all);

# behaviour => what a careful verifier must conclude
my @cases = (
	[earlytalker => 'defer'], [doublegreet => 'defer'], [drip => 'defer'],
	[endless => 'defer'], [megaline => 'defer'], [nulcode => 'defer'],
	[nultext => 'defer'], [barecr => 'defer'], [rstmid => 'defer'],
	[rstrcpt => 'defer'], [neverreads => 'defer'], [tlsgarbage => 'defer'],
	[greet421 => 'defer'], [ehlo421 => 'defer'], [mail421 => 'defer'],
	[rcpt421 => 'defer'], [code999 => 'defer'], [code2x0 => 'defer'],
	[code354 => 'defer'], [ehlo220 => 'defer'], [allatonce => 'defer'],
	[dropgreet => 'defer'], [codechange => 'defer'], [longline => 'defer'],
	[emptyline => 'defer'], [manylines => 'defer'], [stallrcpt => 'defer'],
	[binary => 'defer'],
	# well-formed, if unusual: these must still give the real answer
	[ehlo70 => 'ok'], [bareLF => 'ok'],
);

my $dir = tempdir();
my ($zone, @listen) = ('');
for my $i (0 .. $#cases) {
	my $ip = '127.0.0.' . (40 + $i);
	$zone .= "h$i.test MX 10 mx.h$i.test\nmx.h$i.test A $ip\n";
	push @listen, '--listen', "$ip=$cases[$i][0]";
}
my $dns = start_dns($zone, dir => $dir);
my $pf = "$dir/hostile.port";
Savd::spawn('hostilefix', [$^X, "$FindBin::Bin/lib/hostilefix.pl",
    '--port-file', $pf, @listen], "$dir/hostile.log");
ok(wait_for(sub { -s $pf }, 10), 'the hostile fixture listens')
    or BAIL_OUT(slurp("$dir/hostile.log"));
chomp(my $port = slurp($pf));

my $d = start_savd(dir => $dir, dns => $dns, smtp_port => $port, conf => {
	connect_timeout => '2s', command_timeout => '2s',
	callout_timeout => '8s', answer_timeout => '12s',
	domain_rate => '1000/1m', max_callouts => 100,
});

sub fds { my @f = glob("/proc/$_[0]/fd/*"); scalar @f }
my $fd0 = fds($d->pid);

my $t0 = time;
my @answers = $d->concurrent(20, map { "SENDER <user$_\@h$_.test>" }
    0 .. $#cases);
my $took = time - $t0;
for my $i (0 .. $#cases) {
	my ($name, $want) = @{ $cases[$i] };
	my $r = parse_response($answers[$i] // '');
	is($r->{result} // 'none', $want, "$name: $want")
	    or diag($answers[$i] // 'no answer');
	isnt($r->{reason} // '', 'inprogress', "$name: decided before the deadline")
	    if $want eq 'defer';
}
cmp_ok($took, '<', 13, 'every answer came within the 12 s deadline');

# Sessions that linger for a 221 go within 2 s; then nothing is left.
ok(wait_for(sub { fds($d->pid) <= $fd0 }, 10, 0.2),
    'descriptors back to the baseline') or diag(fds($d->pid) . " > $fd0");
like($d->query('PING'), qr/^result=ok reason=pong/, 'savd still answers');

done_testing();
