#!/usr/bin/perl
# dnsfix.pl - scripted authoritative DNS server for the functional tests.
#
# Answers UDP queries on 127.0.0.1 (or --addr) from a tiny zone file and can
# misbehave on purpose (SERVFAIL, silence, truncation, a crafted packet that
# overflows udns's stock parsers, garbage).  It must never talk to anything
# but the client that asked, and never outlive the test that started it:
# it exits on SIGTERM and as soon as its parent process is gone.
#
# Usage: dnsfix.pl --zone FILE [--addr 127.0.0.1] [--port 0]
#                  [--port-file FILE] [--log FILE]
#
# Zone file: one record per line, '#' starts a comment, names are
# case-insensitive and a trailing dot is optional:
#   example.com  MX    10 mx1.example.com     (a null MX is "0 .")
#   mx1.example.com A  127.0.0.2
#   mx1.example.com AAAA ::1
#   www.example.com CNAME example.com
#   example.com  TXT   some text
# Pseudo-types change how queries for the name are answered.  Without data
# they apply to every query type; with a list of types ("bad.test SERVFAIL
# MX") only to those, other types are answered from the records as usual:
#   SERVFAIL  REFUSED  TIMEOUT (never answer)  TRUNCATE (TC bit, no records)
#   CRAFTED   (reply whose question name is a compression pointer)
#   GARBAGE   (random bytes after the query id)
#   DELAY N [types]  (answer normally after N seconds)
#   RAW TYPE HEX...  (to a TYPE query, or any with TYPE "*": exactly these
#                     bytes, whitespace in the hex ignored, with the first
#                     two replaced by the query id; for replies that
#                     Net::DNS would refuse to build)
# A name that is not in the zone at all gives NXDOMAIN; a name with no
# record of the asked type gives NOERROR with no answer (NODATA) and an SOA
# in the authority section.  Answers carry AA.
#
# Log: one line per query, "qname qtype" (qname lower-case, no trailing
# dot), appended and flushed; "#reload N" after each reload.
# SIGHUP re-reads the zone file (a bad file keeps the old zone).
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::IP;
use IO::Select;
use IO::Handle;
use Time::HiRes qw(time);
use Net::DNS;
use Net::DNS::Packet;

my %opt = (addr => '127.0.0.1', port => 0);
GetOptions(\%opt, 'zone=s', 'addr=s', 'port=i', 'port-file=s', 'log=s')
    or die "usage: $0 --zone FILE [--addr A] [--port N] [--port-file F] "
    . "[--log F]\n";
die "$0: --zone is required\n" unless defined $opt{zone};

my %PSEUDO = map { $_ => 1 } qw(SERVFAIL REFUSED TIMEOUT TRUNCATE CRAFTED
    GARBAGE DELAY);
my %REAL = map { $_ => 1 } qw(MX A AAAA CNAME TXT NS PTR SRV);

my $zone = load_zone($opt{zone}) or die "$0: cannot load $opt{zone}\n";
my $generation = 0;
my ($reload, $stop) = (0, 0);
$SIG{HUP} = sub { $reload = 1 };
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
$SIG{PIPE} = 'IGNORE';

my $sock = IO::Socket::IP->new(LocalHost => $opt{addr},
    LocalPort => $opt{port}, Proto => 'udp', ReuseAddr => 1)
    or die "$0: bind $opt{addr}:$opt{port}: $@\n";
my $logfh;
if (defined $opt{log}) {
	open($logfh, '>>', $opt{log}) or die "$0: $opt{log}: $!\n";
	$logfh->autoflush(1);
}
write_port_file($opt{'port-file'}, $sock->sockport) if $opt{'port-file'};

my $ppid = getppid();
my @delayed;            # [when, bytes, peer]
my $sel = IO::Select->new($sock);
until ($stop) {
	exit 0 if getppid() != $ppid || getppid() == 1;
	if ($reload) {
		$reload = 0;
		my $z = load_zone($opt{zone});
		$zone = $z if $z;
		$generation++;
		logline("#reload $generation" . ($z ? '' : ' failed'));
	}
	my $wait = 0.25;
	for my $d (@delayed) {
		my $w = $d->[0] - time;
		$wait = $w if $w < $wait;
	}
	$wait = 0 if $wait < 0;
	if ($sel->can_read($wait)) {
		my $peer = $sock->recv(my $buf, 65535, 0);
		handle($buf, $peer) if defined $peer && length $buf;
	}
	my $now = time;
	my @keep;
	for my $d (@delayed) {
		if ($d->[0] <= $now) {
			$sock->send($d->[1], 0, $d->[2]);
		} else {
			push @keep, $d;
		}
	}
	@delayed = @keep;
}
exit 0;

sub write_port_file {
	my ($file, $port) = @_;
	open(my $fh, '>', "$file.tmp") or die "$0: $file.tmp: $!\n";
	print $fh "$port\n";
	close($fh) or die "$0: $file.tmp: $!\n";
	rename("$file.tmp", $file) or die "$0: rename $file: $!\n";
}

sub logline {
	print $logfh "$_[0]\n" if $logfh;
}

sub norm {
	my $n = lc shift;
	$n =~ s/\.+$//;
	return $n;
}

# name -> { rr => { TYPE => [data...] }, pseudo => { TYPE => [args...] } }
sub load_zone {
	my ($file) = @_;
	open(my $fh, '<', $file) or do { warn "$0: $file: $!\n"; return };
	my %z;
	while (my $line = <$fh>) {
		$line =~ s/#.*//;
		$line =~ s/^\s+|\s+$//g;
		next if $line eq '';
		my ($name, $type, $data) = split(/\s+/, $line, 3);
		$type = uc($type // '');
		$data //= '';
		my $n = norm($name);
		if ($type eq 'RAW') {
			my ($qt, $hex) = split(/\s+/, $data, 2);
			$hex = join('', split(/\s+/, $hex // ''));
			if (!defined $qt || $hex !~ /^(?:[0-9a-fA-F]{2}){2,}$/) {
				warn "$0: $file:$.: RAW needs a type and hex\n";
				return;
			}
			$z{$n}{raw}{uc $qt} = pack('H*', $hex);
		} elsif ($PSEUDO{$type}) {
			push @{ $z{$n}{pseudo}{$type} }, split(/\s+/, $data);
		} elsif ($REAL{$type}) {
			push @{ $z{$n}{rr}{$type} }, $data;
		} else {
			warn "$0: $file:$.: unknown type '$type'\n";
			return;
		}
	}
	return \%z;
}

# The pseudo-type that applies to (name, qtype), with its arguments.
sub pseudo_for {
	my ($name, $qtype) = @_;
	return unless exists $zone->{$name};
	my $p = $zone->{$name}{pseudo} or return;
	for my $t (qw(TIMEOUT GARBAGE CRAFTED TRUNCATE SERVFAIL REFUSED DELAY)) {
		my $args = $p->{$t} or next;
		my @a = @$args;
		my $secs = $t eq 'DELAY' ? shift(@a) // 1 : undef;
		next if @a && !grep { uc($_) eq $qtype } @a;
		return ($t, $secs);
	}
	return;
}

# The RAW reply scripted for (name, qtype), if any.
sub raw_for {
	my ($name, $qtype) = @_;
	my $raw = exists $zone->{$name} && $zone->{$name}{raw} or return;
	return $raw->{$qtype} // $raw->{'*'};
}

sub handle {
	my ($buf, $peer) = @_;
	my $q = eval { Net::DNS::Packet->new(\$buf) };
	return unless $q && !$q->header->qr;
	my ($question) = $q->question or return;
	my $qname = norm($question->qname);
	my $qtype = uc $question->qtype;
	logline("$qname $qtype");
	if (my $raw = raw_for($qname, $qtype)) {
		$sock->send(substr($buf, 0, 2) . substr($raw, 2), 0, $peer);
		return;
	}
	my ($pseudo, $secs) = pseudo_for($qname, $qtype);
	$pseudo //= '';
	return if $pseudo eq 'TIMEOUT';
	my $out;
	if ($pseudo eq 'GARBAGE') {
		$out = substr($buf, 0, 2)
		    . join('', map { chr(int(rand(256))) } 1 .. 10 + int(rand(50)));
	} elsif ($pseudo eq 'CRAFTED') {
		$out = crafted(unpack('n', $buf), $qname, $qtype);
	} else {
		$out = answer($q, $qname, $qtype, $pseudo)->data;
	}
	if ($pseudo eq 'DELAY') {
		push @delayed, [time + $secs, $out, $peer];
	} else {
		$sock->send($out, 0, $peer);
	}
}

sub soa_for {
	my ($name) = @_;
	my @l = split(/\./, $name);
	my $apex = @l > 2 ? join('.', @l[-2, -1]) : $name;
	$apex = 'test' if $apex eq '';
	return Net::DNS::RR->new("$apex. 60 IN SOA ns.fixture.test. "
	    . "hostmaster.fixture.test. 1 3600 600 86400 60");
}

sub answer {
	my ($q, $qname, $qtype, $pseudo) = @_;
	my $r = $q->reply;
	my $h = $r->header;
	$h->rcode('NOERROR');
	$h->aa(1);
	$h->ra(1);
	if ($pseudo eq 'SERVFAIL' || $pseudo eq 'REFUSED') {
		$h->rcode($pseudo);
		return $r;
	}
	if ($pseudo eq 'TRUNCATE') {
		$h->tc(1);
		return $r;
	}
	if (!exists $zone->{$qname}) {
		$h->rcode('NXDOMAIN');
		$r->push(authority => soa_for($qname));
		return $r;
	}
	my @ans = records($qname, $qtype, 0);
	$r->push(answer => @ans) if @ans;
	$r->push(authority => soa_for($qname)) unless @ans;
	return $r;
}

# Records of qtype at name, following CNAMEs inside the zone.
sub records {
	my ($name, $qtype, $depth) = @_;
	return unless exists $zone->{$name};
	my $rr = $zone->{$name}{rr} or return;
	my @out;
	if ($rr->{$qtype}) {
		for my $data (@{ $rr->{$qtype} }) {
			my $d = $data;
			$d = qq("$d") if $qtype eq 'TXT' && $d !~ /^"/;
			push @out, Net::DNS::RR->new("$name. 300 IN $qtype $d");
		}
		return @out;
	}
	if ($rr->{CNAME} && $depth < 8) {
		my $target = norm($rr->{CNAME}[0]);
		push @out, Net::DNS::RR->new("$name. 300 IN CNAME $target.");
		push @out, records($target, $qtype, $depth + 1)
		    if exists $zone->{$target};
	}
	return @out;
}

sub wire_name {
	my ($name) = @_;
	return join('', map { chr(length $_) . $_ } split(/\./, $name)) . "\0";
}

# A reply whose question name is a compression pointer to the owner name of
# the answer record that follows it.  udns 0.4 decompresses the name to
# match the query, then its stock parsers measure the raw question bytes
# (0xC0 read as a 192-byte label) and overflow the result buffer.
sub crafted {
	my ($id, $qname, $qtype) = @_;
	my %code = (A => 1, NS => 2, CNAME => 5, MX => 15, TXT => 16,
	    AAAA => 28);
	my $t = $code{$qtype} // 1;
	my $owner_off = 12 + 2 + 4;     # header, pointer, type+class
	my $ptr = pack('n', 0xC000 | $owner_off);
	my $rdata = $t == 15 ? pack('n', 10) . $ptr
	    : $t == 28 ? pack('n8', 0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)
	    : $t == 1 ? pack('C4', 192, 0, 2, 1)
	    : $t == 16 ? "\x04oops"
	    : $ptr;
	return pack('n6', $id, 0x8580, 1, 1, 0, 0)
	    . $ptr . pack('n2', $t, 1)
	    . wire_name($qname) . pack('n2 N n', $t, 1, 60, length $rdata)
	    . $rdata;
}
