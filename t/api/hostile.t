# Hostile input at every route (/, /?slot=, /buy/{id}, /order/{id}, unknown paths): bad
# ids, broken percent-encoding, huge bodies and headers, wrong content types, duplicated
# parameters, tampered cookies and CSRF tokens, odd methods, malformed HTTP. Each gets a
# 4xx (or the documented answer), httpd keeps serving after every batch, no child crashes,
# and nothing changes in Redis or MySQL. Requests are written by hand on a socket, so that
# nothing on the client side repairs them. The payment routes (/order/pay/, /order/cancel/,
# /result/, /alipay/notify/) get the same treatment; their happy paths are in t/alipay/pay.t.
use strict;
use warnings FATAL => 'all';
use Test::More;
use IO::Socket::INET ();
use Apache::Test ();
use Apache::TestRequest ();
use SeckillTest;
use Shopper;
use Stampede;
use Audit;
use AlipayTest qw(signed_notify form_body);

$SIG{PIPE} = 'IGNORE';
reset_data();
my $now = time;
# on sale (a request that got through would sell: none may) and not started yet (a request
# that passes identity and CSRF ends at not_started there, so limits on it stay visible)
my $on_sale = add_product(name => 'hostile', start => $now - 60, end => $now + 3600,
    stock => 5, status => 1);
my $later = add_product(name => 'hostile later', start => $now + 3600, end => $now + 7200,
    stock => 5);
preheat($now - 60, $now + 3600);
get_json("/?slot=$_") for 8, 10, 12, 14, 16, 18, 20, 22; # every slot cached: a listing changes nothing
my $me = Shopper->new;
my ($cookie, $csrf) = ("seckill_id=" . ($me->ua->cookie_jar->as_string =~ /seckill_id=([^;]+)/)[0],
    $me->csrf);
my $hostport = Apache::TestRequest::hostport(Apache::Test::config());
my ($host, $port) = split /:/, $hostport;
my $before = Audit::snapshot();
my $mark = Audit::log_mark();

# Sends raw bytes (the request line and headers as given, CRLF-joined); returns the status
# (0 when the server closed without an answer) and the body.
sub raw {
    my ($head, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $host, PeerPort => $port, Timeout => 10)
      or die "connect $hostport: $!";
    my $msg = $head . (defined $body ? $body : '');
    for (my $off = 0; $off < length $msg;) {
        my $n = syswrite($s, $msg, 65536, $off);
        last unless $n; # the server may answer and close before reading a huge body
        $off += $n;
    }
    shutdown($s, 1);
    local $/;
    my $res = eval { local $SIG{ALRM} = sub { die "timeout\n" }; alarm 15; my $r = <$s>; alarm 0; $r } // '';
    close $s;
    my ($code) = $res =~ m{\AHTTP/1\.\d (\d{3})};
    my ($content) = $res =~ /\r\n\r\n(.*)\z/s;
    return wantarray ? ($code // 0, $content // '') : ($code // 0);
}

# A request: method, target, headers (list of "Name: value"), body.
sub req {
    my ($method, $target, $headers, $body) = @_;
    my @h = ("Host: $hostport", 'Connection: close', 'Accept: application/json', @{$headers // []});
    push @h, 'Content-Length: ' . length($body)
      if defined $body && !grep { /^(content-length|transfer-encoding):/i } @h;
    return raw(join("\r\n", "$method $target HTTP/1.1", @h) . "\r\n\r\n", $body);
}

my @me = ("Cookie: $cookie", "X-CSRF-Token: $csrf");
my $form = 'Content-Type: application/x-www-form-urlencoded';

sub is_4xx {
    my ($code, $name, $want) = @_;
    if (defined $want) {
        my $ok = ref $want ? scalar(grep { $_ == $code } @$want) : $code == $want;
        return ok($ok, "$name: $code") || diag("wanted " . (ref $want ? "@$want" : $want));
    }
    return ok($code >= 400 && $code < 500, "$name: $code (4xx)");
}

# After a batch: a normal request works, no child crashed.
sub still_serving {
    my ($batch) = @_;
    my ($res, $d) = get_json('/');
    ok($res->code == 200 && $d && $d->{ok}, "after $batch: GET / answers 200 JSON");
    my ($r2, $d2) = Shopper->new->buy($later);
    is($d2 && $d2->{code}, 'not_started', "after $batch: a proper buy gets its answer");
    my @crash = Audit::crashes($mark);
    is(scalar @crash, 0, "after $batch: no child crashed") or diag @crash;
}

# what /order/ accepts: 1-20 digits, not zero, at most 2^64-1 (an id nobody has: 404)
sub u64_ok {
    my ($id) = @_;
    return $id =~ /^\d{1,20}$/ && $id =~ /[1-9]/
      && (length $id < 20 || $id le '18446744073709551615');
}

my @bad_ids = ('-1', '0', '00', 'abc', '1.5', '1e3', '0x10', '+1', '%201', '1%20', '%2531', '12abc',
    '99999999999999999999', '1234567890123456789', '18446744073709551616', '%EF%BC%91', '1%0a',
    '-9223372036854775808', ('9' x 300));
subtest 'ids' => sub {
    for my $id (@bad_ids) {
        is_4xx(scalar req('POST', "/buy/$id", [@me]), "POST /buy/$id", 400);
        is_4xx(scalar req('GET', "/order/$id", [@me]), "GET /order/$id", u64_ok($id) ? 404 : 400);
    }
    is_4xx(scalar req('POST', '/buy/123456789012345678', [@me]), 'POST /buy/ 18 digits, no such product', 404);
    is_4xx(scalar req('GET', '/order/18446744073709551615', [@me]), 'GET /order/2^64-1', 404);
    for my $t ('%zz', '%', '%0', '%00', '1%00', '%2F', '1%2F2', '%c0%af', '%ff%fe') {
        is_4xx(scalar req('POST', "/buy/$t", [@me]), "POST /buy/$t");
        is_4xx(scalar req('GET', "/order/$t", [@me]), "GET /order/$t");
    }
    for my $p ('/nope', '/buy', '/buy/', '/buy//1', '/buy/1/2', '/order/', '/order/1/x',
        '/index.html', '/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/buy/1/..',
        '/' . ('a' x 9000), '/?' . ('slot=8&' x 1500), 'buy/1', '*') {
        my $code = req('GET', $p, [@me]);
        is_4xx($code, 'GET ' . (length $p > 40 ? substr($p, 0, 40) . '...' : $p));
    }
    still_serving('bad ids and paths');
};

subtest 'query' => sub {
    for my $q ('slot=', 'slot=%zz', 'slot=%', 'slot=%00', 'slot=8%00', 'slot=%38',
        'slot=8&slot=8', 'slot=8&slot=10', 'slot=7', 'slot=-8', 'slot=+8', 'slot=08x',
        'slot=99999999999999999999', 'slot=%EF%BC%98', 'slot=8;slot=10', 'slot=8%26slot=10',
        'slot=' . ('8' x 5000)) {
        is_4xx(scalar req('GET', "/?$q", [@me]), 'GET /?' . substr($q, 0, 30), 400);
    }
    # documented: other parameters are ignored, whatever they hold
    # ('slot' without '=' is such another parameter)
    for my $q ('x=%zz', 'x=%', 'x=%00', 'slot[]=8', 'Slot=99', '&&&=', '=8', 'slot') {
        is_4xx(scalar req('GET', "/?$q", [@me]), "GET /?$q (ignored)", 200);
    }
    still_serving('queries');
};

subtest 'methods' => sub {
    for my $m (qw(PUT DELETE OPTIONS PATCH PROPFIND FOO)) {
        is_4xx(scalar req($m, '/', [@me]), "$m /");
        is_4xx(scalar req($m, "/buy/$on_sale", [@me], "csrf_token=$csrf"), "$m /buy/$on_sale");
        is_4xx(scalar req($m, '/order/1', [@me]), "$m /order/1");
    }
    is_4xx(scalar req('GET', "/buy/$on_sale", [@me]), "GET /buy/$on_sale", 405);
    is_4xx(scalar req('POST', '/', [@me, $form], "csrf_token=$csrf"), 'POST /', 405);
    is_4xx(scalar req('POST', '/order/1', [@me, $form], "csrf_token=$csrf"), 'POST /order/1', 405);
    # TraceEnable Off: TRACE would echo the identity cookie back
    is_4xx(scalar req('TRACE', '/', [@me]), 'TRACE /', 405);
    is_4xx(scalar req('TRACE', "/buy/$on_sale", [@me]), "TRACE /buy/$on_sale", 405);
    still_serving('methods');
};

subtest 'bodies and content types' => sub {
    my $mb = 'a' x (1 << 20);
    my @c = ("Cookie: $cookie");
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form], "csrf_token=$csrf&x=$mb"),
        'POST 1 MB form (on sale)', 413);
    is_4xx(scalar req('POST', "/buy/$later", [@me, $form], $mb), 'POST 1 MB with the header token',
        413);
    is_4xx(scalar req('POST', "/buy/$later", [@me, 'Content-Type: text/plain'], $mb),
        'POST 1 MB text/plain', 413);
    my $chunked = join('', map { sprintf("%x\r\n%s\r\n", 65536, 'a' x 65536) } 1 .. 16) . "0\r\n\r\n";
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form, 'Transfer-Encoding: chunked'], $chunked),
        'POST 1 MB chunked form, no CSRF header');
    # the 4 KB limit holds whatever the framing and the content type
    is_4xx(scalar req('POST', "/buy/$later", [@me, 'Content-Type: text/plain',
        'Transfer-Encoding: chunked'], $chunked), 'POST 1 MB chunked text/plain', 413);
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form, 'Content-Length: 99999999999999999999'], ''),
        'Content-Length too big to read');
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form, 'Content-Length: -1'], ''),
        'Content-Length -1', 400);
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form, 'Content-Length: 10',
        'Transfer-Encoding: chunked'], "0\r\n\r\n"), 'Content-Length and chunked at once');
    # the token in the body, broken in every way: no sale
    for my $b ("csrf_token=%zz", 'csrf_token=%', 'csrf_token=%00',
        "csrf_token=$csrf&csrf_token=$csrf", "csrf_token=x&csrf_token=$csrf", 'csrf_token',
        '=&&&=', 'csrf_token=' . ('%41' x 2000), join('&', map { "a$_=b" } 1 .. 100),
        "csrf_token=" . substr($csrf, 0, 20)) {
        is_4xx(scalar req('POST', "/buy/$on_sale", [@c, $form], $b), 'form ' . substr($b, 0, 30));
    }
    # the right token, but where no form is read
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c], "csrf_token=$csrf"), 'no content type', 403);
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, 'Content-Type: application/json'],
        qq({"csrf_token":"$csrf"})), 'JSON body', 403);
    is_4xx(scalar req('POST', "/buy/$on_sale", [@c, 'Content-Type: multipart/form-data; boundary=x'],
        "--x\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n$csrf\r\n--x--\r\n"),
        'multipart body', 403);
    # a NUL is refused outright, not cut at
    is_4xx(scalar req('POST', "/buy/$later", [@c, $form], "csrf_token=$csrf%00junk"),
        'the right token followed by %00junk', 400);
    # duplicated while right: refused as ambiguous, on the product not on sale
    is_4xx(scalar req('POST', "/buy/$later", [@c, $form], "csrf_token=$csrf&csrf_token=$csrf"),
        'the token given twice', 400);
    still_serving('bodies');
};

subtest 'headers and HTTP itself' => sub {
    my $path = "/buy/$on_sale";
    is_4xx(scalar req('POST', $path, [@me, 'X-Big: ' . ('a' x 10000)]), 'a 10 KB header', 400);
    is_4xx(scalar req('POST', $path, [@me, map { "X-H$_: v" } 1 .. 200]), '200 headers', 400);
    is_4xx(scalar req('GET', '/', ['Cookie: ' . ('a=b; ' x 3000)]), 'a 15 KB cookie', 400);
    is_4xx(scalar req('GET', '/' . ('x' x 10000), []), 'a 10 KB request line', 414);
    is_4xx(scalar req('GET', '/', ["X-Bad: a\x00b"]), 'a NUL in a header', 400);
    # httpd joins an obsolete folded line to the header before it (RFC 7230 3.2.4 allows it)
    is_4xx(scalar req('GET', '/', ["X-Bad: a", " folded"]), 'obsolete line folding', [200, 400]);
    is_4xx(scalar req('GET', '/', ["Bad Header: x"]), 'a space in a header name', 400);
    is_4xx(scalar raw("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"), 'HTTP/1.1 without Host', 400);
    is_4xx(scalar raw("GET / HTTP/9.9\r\nHost: $hostport\r\nConnection: close\r\n\r\n"),
        'HTTP/9.9 (httpd answers as HTTP/1.1)', [200, 400, 505]);
    is_4xx(scalar raw("GET /\x01 HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n\r\n"),
        'a control byte in the target', 400);
    is_4xx(scalar raw("POST $path HTTP/1.1\r\nHost: $hostport\r\nConnection: close\r\n"
          . "Cookie: $cookie\r\nX-CSRF-Token: $csrf\r\nX-CSRF-Token: $csrf\r\n\r\n"),
        'X-CSRF-Token twice (httpd joins them)', 403);
    is(scalar raw("\r\n\r\n\r\n"), 0, 'blank lines: no request, no answer') ;
    still_serving('headers');
};

subtest 'tampered identity cookies' => sub {
    my ($val) = $cookie =~ /=(.*)/;
    is(length $val, 66, 'cookie value: 22-char id, a dot, a 43-char signature');
    my $refused = 0;
    for my $i (0 .. length($val) - 1) {
        for my $flip (1, 32) {
            my $t = $val;
            my $c = chr(ord(substr($t, $i, 1)) ^ $flip);
            substr($t, $i, 1) = $c;
            my $code = req('POST', "/buy/$on_sale", ["Cookie: seckill_id=$t", "X-CSRF-Token: $csrf"]);
            # 403; or 400 when the flip made a byte httpd refuses in a header (CR, a control)
            $refused++ if $code == 403 || ($code == 400 && $c =~ /[\x00-\x1f\x7f]/);
            diag("byte $i ^ $flip: $code") unless $code == 403 || $code == 400;
        }
    }
    is($refused, 2 * length $val, 'every byte flipped (two bits each): 403');
    my @bad = ('', '.', substr($val, 0, 65), "$val=", "${val}x", 'x' x 66,
        substr($val, 0, 22) . '.' . ('A' x 43), "$val\x7f", "$val\x80");
    for my $k (0 .. $#bad) {
        is_4xx(scalar req('POST', "/buy/$on_sale", ["Cookie: seckill_id=$bad[$k]",
            "X-CSRF-Token: $csrf"]), "bad cookie #$k", [400, 403]);
    }
    # two cookies of the name with two values: which one was meant? neither (as httpd's
    # ap_cookie_read); the same value twice is one cookie (on the product not on sale)
    is_4xx(scalar req('POST', "/buy/$later", ["Cookie: seckill_id=x; seckill_id=$val",
        "X-CSRF-Token: $csrf"]), 'a bad cookie before the good one', 403);
    is_4xx(scalar req('POST', "/buy/$later", ["Cookie: seckill_id=$val", "Cookie: seckill_id=x",
        "X-CSRF-Token: $csrf"]), 'the good one, then a bad one in another header', 403);
    is(scalar req('POST', "/buy/$later", ["Cookie: a=1; seckill_id=$val, seckill_id=$val",
        "X-CSRF-Token: $csrf"]), 409, 'the same cookie twice is the shopper (409: not started)');
    still_serving('cookies');
};

subtest 'CSRF token garbage' => sub {
    my ($other) = Stampede::shoppers(1, 77);
    my $refused = 0;
    for my $i (0 .. length($csrf) - 1) {
        my $t = $csrf;
        substr($t, $i, 1) = chr(ord(substr($t, $i, 1)) ^ 1);
        my $code = req('POST', "/buy/$on_sale", ["Cookie: $cookie", "X-CSRF-Token: $t"]);
        $refused++ if $code == 403;
        diag("csrf byte $i: $code") if $code != 403;
    }
    is($refused, length $csrf, 'every byte of the token flipped: 403');
    my @bad = ('', ' ', 'A' x 43, 'A' x 10000, "\xff\xfe" x 20, "$csrf,$csrf",
        substr($csrf, 0, 42), "${csrf}A", $other->[2], '%' . $csrf, "\t", lc $csrf, uc $csrf);
    for my $k (0 .. $#bad) {
        is_4xx(scalar req('POST', "/buy/$on_sale", ["Cookie: $cookie", "X-CSRF-Token: $bad[$k]"]),
            "bad X-CSRF-Token #$k", length $bad[$k] > 8000 ? [400, 403] : 403);
    }
    # blanks around a header value are not part of it (RFC 7230): the token as it is
    for my $t ("$csrf ", " $csrf", "$csrf\t") {
        is_4xx(scalar req('POST', "/buy/$later", ["Cookie: $cookie", "X-CSRF-Token: $t"]),
            'the token with blanks around it: not_started', 409);
    }
    still_serving('CSRF tokens');
};

subtest 'payment routes' => sub {
    for my $route ('/order/pay/', '/order/cancel/') {
        for my $id (@bad_ids) {
            is_4xx(scalar req('POST', "$route$id", [@me]), "POST $route$id", u64_ok($id) ? 404 : 400);
        }
        is_4xx(scalar req('GET', "${route}1", [@me]), "GET ${route}1", 405);
        is_4xx(scalar req('POST', "${route}1", ["Cookie: $cookie"]), "POST ${route}1 without CSRF", 403);
        is_4xx(scalar req('POST', "${route}1", [$form, "Cookie: $cookie"], 'csrf_token=%zz'),
            "POST ${route}1 broken form", 400);
        is_4xx(scalar req('POST', "${route}1", [$form, "Cookie: $cookie"],
            "csrf_token=$csrf&csrf_token=$csrf"), "POST ${route}1 token twice", 400);
        is_4xx(scalar req('POST', "${route}1", [$form, @me], 'x=' . ('y' x (1 << 20))),
            "POST ${route}1 with 1 MB", 413);
        is_4xx(scalar req('POST', "${route}1", [@me]), "POST ${route}1: nobody's order", 404);
    }
    for my $q ('', '?', '?%zz', '?out_trade_no=1&out_trade_no=2', '?out_trade_no=1',
        '?sign=abc&out_trade_no=1&app_id=1', '?' . ('a=1&' x 3000)) {
        is_4xx(scalar req('GET', "/result/$q", [@me]), 'GET /result/' . substr($q, 0, 30));
    }
    is_4xx(scalar req('POST', '/result/?sign=x', [@me]), 'POST /result/', 405);
    my $unknown = form_body(signed_notify('1234567890', '1.00'));
    my @notify = (
        ['no content type', [], $unknown, 415],
        ['JSON', ['Content-Type: application/json'], '{"out_trade_no":"1"}', 415],
        ['multipart', ['Content-Type: multipart/form-data; boundary=x'], "--x--\r\n", 415],
        ['form-urlencodedx', ['Content-Type: application/x-www-form-urlencodedx'], $unknown, 415],
        ['empty', [$form], '', 400],
        ['broken escape', [$form], 'out_trade_no=%zz', 400],
        ['a NUL', [$form], 'out_trade_no=1%00', 400],
        ['fields doubled', [$form], "$unknown&out_trade_no=1", 400],
        ['sign doubled', [$form], "$unknown&sign=x", 400],
        ['unsigned', [$form], 'out_trade_no=1&trade_status=TRADE_SUCCESS&total_amount=1.00&app_id=1', 400],
        ['signed, unknown order', [$form], $unknown, 400],
        ['1 MB', [$form], $unknown . '&pad=' . ('x' x (1 << 20)), 413],
    );
    for my $n (@notify) {
        my ($code, $body) = req('POST', '/alipay/notify/', $n->[1], $n->[2]);
        is_4xx($code, "notify: $n->[0]", $n->[3]);
        is($body, 'fail', '  answers fail') if $code != 413;
    }
    is_4xx(scalar req('GET', '/alipay/notify/', []), 'GET /alipay/notify/', 405);
    is_4xx(scalar req('POST', '/alipay/notify/x', [$form], $unknown), 'POST /alipay/notify/x', 404);
    still_serving('payment routes');
};

my $after = Audit::snapshot();
is_deeply($after, $before, 'nothing changed in Redis (keys, stock, buyers, orders) or MySQL')
  or diag explain {before => $before, after => $after};
is(redis('GET', "seckill:stock:{p$on_sale}"), '5', 'the product on sale still has its 5 units');
is(sql('SELECT COUNT(*) FROM seckill_orders'), '0', 'no order row');
done_testing();
