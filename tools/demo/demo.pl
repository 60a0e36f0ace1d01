#!/usr/bin/perl
# demo.pl - the body of tools/demo.sh: a small simulated internet on
# loopback (t/lib/dnsfix.pl with zone.txt, t/lib/smtpfix.pl on 127.0.0.2-6),
# savd in the foreground in a temp dir, savctl queries and a real Exim
# session (exim -bh, nothing delivered) with the shipped ACL snippets, and
# a table of what each address got and why.
#
# It must never send a packet off this machine: savd's nameservers and
# smtp_port point at the fixtures, every MX is a loopback address.  Every
# process it starts is stopped when it exits (Savd.pm's END block; the
# fixtures also exit when this process is gone).
#
# Usage: perl tools/demo/demo.pl   (SAVD and SAVCTL name the built programs)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../../t/lib";
use File::Copy qw(copy);
use Time::HiRes qw(time);
use Savd qw(:all);

# A signal exits normally, so that END blocks stop what we started.
$SIG{$_} = sub { exit 130 } for qw(INT TERM HUP);

my $TOP = "$FindBin::Bin/../..";
my $EXAMPLES = "$TOP/examples/exim";
my @SNIPPETS = qw(savd-macros.conf savd-sender-acl.conf
    savd-recipient-acl.conf savd-check-rcpt.conf);
my ($exim) = grep { -x } qw(/usr/sbin/exim4 /usr/sbin/exim);
my $root = $> == 0;

# [address, what it shows]
my @SENDERS = (
	['alice@mail.demo',     'a real mailbox'],
	['nobody@mail.demo',    'an unknown user'],
	['anything@catchall.demo', 'a catch-all domain'],
	['greylisted@grey.demo', 'a greylisting server'],
	['info@nullmx.demo',    'a domain with a null MX'],
	['info@dead.demo',      'a dead MX'],
	['info@nosuch.demo',    'a domain that does not exist'],
	['info@blocked.demo',   'a server that will not talk to us'],
	['info@nobounce.demo',  'a server that refuses bounces'],
	['bob@relay.demo',      'call-forward: known user'],
	['eve@relay.demo',      'call-forward: unknown user'],
);

sub step { print "==> @_\n" }

step('starting the simulated internet on loopback');
my $dns = start_dns(slurp("$FindBin::Bin/zone.txt"));
my $smtp = start_smtp(
    listen => ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5',
	'127.0.0.6'],
    profile => { '127.0.0.3' => 'catchall', '127.0.0.5' => 'greet554',
	'127.0.0.6' => 'rejectnull' });
print "    DNS  127.0.0.1:", $dns->port, " (tools/demo/zone.txt)\n",
    "    SMTP 127.0.0.2-127.0.0.6 port ", $smtp->port,
    " (mailboxes: alice bob carol postmaster user)\n";

# As root Exim runs its ACLs as Debian-exim: the production socket set-up.
my $group = $root && getgrnam('Debian-exim') ? 'Debian-exim' : undef;
step('starting savd in the foreground');
my $d = start_savd(dns => $dns, smtp => $smtp, conf => {
	helo_name => 'savd.demo',
	routes => 'relay.demo=[127.0.0.4]',
	socket_mode => $group ? '0660' : $root ? '0666' : '0600',
	socket_group => $group,
});
my $dir = $d->dir;
chmod(0711, $dir);
print "    ", savd_bin(), " -f -c ", $d->conf_file, "\n",
    "    socket ", $d->sock, ($group ? " (group $group, mode 0660)" : ''),
    "\n";

# savctl first: these answers come from DNS and callouts.
step('asking savd with savctl');
my %ans;
for my $s (@SENDERS) {
	my ($a) = @$s;
	my $verb = $a =~ /\@relay\.demo$/ ? 'recipient' : 'sender';
	my $t = time;
	my $r = run_cmd([savctl_bin(), '-s', $d->sock, $verb, $a],
	    timeout => 30);
	my $line = $r->{out} // '';
	$line =~ s/\n.*//s;
	$ans{$a} = parse_response($line);
	$ans{$a}{ms} = int((time - $t) * 1000);
	printf "    savctl %-9s %-24s exit %d  (%d ms)\n", $verb, $a,
	    $r->{status} // -1, $ans{$a}{ms};
}

# Then a real Exim session with the shipped snippets.
my $st = $d->stats;
my %exim = $exim ? exim_session() : ();
my $st2 = $d->stats;
my $hits = ($st2->{cache_hits} // 0) - ($st->{cache_hits} // 0);
my $asked = ($st2->{requests} // 0) - ($st->{requests} // 0) - 1;
print "    no Exim found: install exim4-daemon-heavy\n" unless $exim;

print "\n";
my @rows = (['address', 'result', 'reason', 'code', 'source', 'text',
    'Exim answered']);
for my $s (@SENDERS) {
	my ($a) = @$s;
	my $h = $ans{$a};
	my $text = $h->{text} // '';
	push @rows, [$a, map({ $h->{$_} // '-' } qw(result reason code source)),
	    cut($text eq '' ? '-' : $text, 40), cut($exim{$a} // '-', 34)];
}
my @w = (0) x @{ $rows[0] };
for my $r (@rows) {
	$w[$_] = length $r->[$_] > $w[$_] ? length $r->[$_] : $w[$_]
	    for 0 .. $#$r;
}
for my $i (0 .. $#rows) {
	print join(' | ', map { sprintf('%-*s', $w[$_], $rows[$i][$_]) }
	    0 .. $#{ $rows[$i] }), "\n";
	print join('-+-', map { '-' x $_ } @w), "\n" if $i == 0;
}
print "\n";
for my $s (@SENDERS) {
	printf "  %-24s %s\n", $s->[0], $s->[1];
}
print <<"EOF";

savctl asked first (source: dns, callout or policy).  Exim asked next
($asked questions, $hits answered from savd's cache).  "Exim answered" is
its reply to RCPT TO (the sender is checked at RCPT time; for relay.demo
the recipient is called forward) through the shipped examples/exim with
SAVD_MODE = enforce (doc/exim.md): fail -> 550 with the remote quoted, a
remote's 4xx -> 451, unknown and our own defers -> accepted.
EOF
my @log = grep { /result=/ } split(/\n/, $d->log_text);
if (@log) {
	print "\nsavd's log (one line per verification):\n";
	print "  $_\n" for @log[0 .. ($#log < 3 ? $#log : 3)];
	print "  ... (", scalar(@log), " lines)\n" if @log > 4;
}
step('stopping savd and the simulated internet');
$d->stop;
exit 0;

sub cut {
	my ($s, $n) = @_;
	return length $s > $n ? substr($s, 0, $n - 3) . '...' : $s;
}

# One Exim -bh dialogue: every sender as MAIL FROM (RSET between), then
# the relay.demo addresses as RCPT TO.  Returns address -> reply line.
sub exim_session {
	step("running a real Exim SMTP session ($exim -bh 192.0.2.1)");
	for my $f (@SNIPPETS) {
		copy("$EXAMPLES/$f", "$dir/$f") or die "copy $f: $!\n";
		chmod(0644, "$dir/$f");
	}
	for my $sub (qw(spool log)) {
		mkdir("$dir/$sub");
		chmod(0777, "$dir/$sub");
	}
	my $conf = "$dir/exim.conf";
	open(my $fh, '>', $conf) or die "$conf: $!\n";
	# doc/exim.md's recipe, enforcing, with Debian's RCPT ACL in brief.
	print $fh 'SAVD_SOCKET = ', $d->sock, "\n", <<"EOF";
SAVD_MODE = enforce
SAVD_DIR = $dir
SAVD_ETC = $dir
.include $dir/savd-macros.conf
primary_hostname = exim.demo
spool_directory = $dir/spool
log_file_path = $dir/log/%slog
domainlist local_domains = exim.demo
domainlist relay_to_domains = relay.demo
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept  local_parts = postmaster
          domains     = +local_domains : +relay_to_domains
  require message     = relay not permitted
          domains     = +local_domains : +relay_to_domains
.include $dir/savd-check-rcpt.conf
  accept
EOF
	close($fh);
	chmod(0644, $conf);
	my @senders = map { $_->[0] } grep { $_->[0] !~ /\@relay\.demo$/ }
	    @SENDERS;
	my @rcpts = map { $_->[0] } grep { $_->[0] =~ /\@relay\.demo$/ }
	    @SENDERS;
	# The sender is checked at RCPT time (doc/exim.md): MAIL, RCPT, RSET.
	my @cmds = ('HELO client.example', map({ ("MAIL FROM:<$_>",
	    'RCPT TO:<alice@exim.demo>', 'RSET') } @senders),
	    'MAIL FROM:<alice@mail.demo>', map({ "RCPT TO:<$_>" } @rcpts),
	    'QUIT');
	open($fh, '>', "$dir/exim.in") or die "$dir/exim.in: $!\n";
	print $fh map { "$_\r\n" } @cmds;
	close($fh);
	my $r = run_cmd(['sh', '-c', "exec $exim -C $conf -bh 192.0.2.1"
	    . " <$dir/exim.in 2>$dir/exim.err"], timeout => 60);
	my @replies = grep { /^\d{3} / } split(/\r?\n/, $r->{out});
	my %by;
	# greeting, HELO, then MAIL/RCPT/RSET triples, then MAIL and the RCPTs
	for my $i (0 .. $#senders) {
		$by{ $senders[$i] } = $replies[2 + 3 * $i + 1];
	}
	my $base = 2 + 3 * @senders + 1;
	$by{ $rcpts[$_] } = $replies[$base + $_] for 0 .. $#rcpts;
	print "    ", scalar(@replies), " SMTP replies; the dialogue is in",
	    " $dir/exim.in, Exim's ACL trace in $dir/exim.err"
	    . " (kept with SAVD_KEEP=1)\n";
	return %by;
}
