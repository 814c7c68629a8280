-- videoflix-hls.lua -- lighttpd mod_magnet: serve validly signed HLS segments without the
-- application (lighttpd 1.4.68+ has no mod_secdownload; this is its replacement for us).
--
-- A template like videoflix.conf: replace the two placeholders below with the
-- application's MEDIA_SIGNING_KEY (at least 32 characters, or nothing is ever accepted)
-- and its comma-separated CORS_ALLOWED_ORIGINS.  mod_magnet must come before
-- mod_fastcgi in server.modules (both act at the same stage).
--
-- The playlist the application returns lists "000.ts?e=<expiry>&s=<signature>" where
--     signature = lower-hex HMAC-SHA256(key, "<expiry>|<uri>|<client address>")
-- (lib/domain/urlsig.h, URLSIG_LIGHTTPD).  A valid request is mapped onto the internal prefix
-- /_vf_signed_hls/ that videoflix.conf aliases to MEDIA_ROOT/hls/, and lighttpd serves
-- the file itself (Range, HEAD, sendfile).  Anything else -- unsigned, expired, altered,
-- another video's or another client's signature -- is left untouched and falls through
-- to the application's cookie-checked route.
--
-- The same script also answers CORS preflights outside /api/ (static files) and, run a
-- second time as each response starts (magnet.attract-response-start-to), adds the CORS
-- headers to the responses lighttpd makes itself.

local key = "@MEDIA_SIGNING_KEY@"
local origins_csv = "@CORS_ALLOWED_ORIGINS@"
local internal = "/_vf_signed_hls/"

local r = lighty.r
local c = lighty.c

-- The allowed origin of this request, or nil.
local function allowed_origin()
    local origin = r.req_header["Origin"]
    if origin then
        for o in origins_csv:gmatch("[^,%s]+") do
            if o == origin then
                return origin
            end
        end
    end
    return nil
end

-- True when a byte range request would be answered 416 by lighttpd: GET over HTTP/1.1
-- of a complete 200 body of `len` bytes, "bytes=" ranges that are all well formed and
-- none of them satisfiable (RFC 7233 2.1; the cases lighttpd's http_range.c refuses).
-- Anything less clear is left to lighttpd.
local function range_unsatisfiable(len)
    local range = r.req_header["Range"]
    if not range or not len or len == 0 or r.req_header["If-Range"]
        or r.req_attr["request.method"] ~= "GET"
        or r.req_attr["request.protocol"] ~= "HTTP/1.1" then
        return false
    end
    local set = range:match("^[Bb][Yy][Tt][Ee][Ss]=(.*)$")
    if not set or set == "" then
        return false
    end
    for spec in (set .. ","):gmatch("([^,]*),") do
        spec = spec:match("^%s*(.-)%s*$")
        local a, b = spec:match("^(%d+)%s*%-%s*(%d*)$")
        local suffix = spec:match("^%-(%d+)$")
        if a then
            if #a > 15 then return false end
            if tonumber(a) < len and (b == "" or #b > 15 or tonumber(a) <= tonumber(b)) then
                return false                  -- satisfiable
            end
        elseif suffix then
            if #suffix > 15 or tonumber(suffix) > 0 then
                return false
            end
        else
            return false                      -- malformed: lighttpd decides
        end
    end
    return true
end

-- The request line and Referer for the access log (accesslog.format in videoflix.conf):
-- RELIABILITY 31, no activation or reset token in any log.  Matched on the lower-cased
-- raw target, absolute-form (http://host/api/...) included.
local function redacted_target(target)
    local low = target:lower()
    local pre = low:match("^[%a][%w+.-]*://[^/]*") or ""
    local rest = low:sub(#pre + 1)
    local keep = rest:match("^/api/activate/[^/?]*/") or rest:match("^/api/password_confirm/[^/?]*/")
    if keep then
        return target:sub(1, #pre + #keep) .. "[redacted]"
    end
    return target
end

local function log_fields()
    local target = r.req_attr["request.orig-uri"] or ""
    local method = r.req_attr["request.method"] or ""
    if target == "" or method == "" then
        r.req_env["VF_LOG_REQUEST"] = "-"     -- refused before the request line was read
    else
        r.req_env["VF_LOG_REQUEST"] = method .. " " .. redacted_target(target) .. " "
            .. (r.req_attr["request.protocol"] or "-")
    end
    local referer = r.req_header["Referer"]
    if referer then
        local low = referer:lower()
        if low:find("[?&;]token=") or low:find("/api/activate/", 1, true)
            or low:find("/api/password_confirm/", 1, true) then
            referer = "[redacted]"
        end
        r.req_env["VF_LOG_REFERER"] = referer
    end
end

-- Second use (magnet.attract-response-start-to in videoflix.conf): every response is
-- about to go out.  Responses lighttpd makes itself -- 503 application down, 413, 411
-- POST without Content-Length, 431, 501, static files -- lack the CORS headers the
-- application puts on its own: the frontend could not read them (CONTRACT.md: every
-- response, errors and files included, carries them).  Errors under /api/ and /media/,
-- and those refused before the request target was even parsed (431, 400, 501, 505:
-- request.uri is empty then), also get the application's other headers, and their JSON
-- bodies (etc/lighttpd/errors) a JSON Content-Type (RELIABILITY 31).
local status = r.req_item.http_status
if status ~= 0 then
    log_fields()
    local h = r.resp_header
    local uri = r.req_attr["request.uri"] or ""
    local json_area = uri == "" or uri:sub(1, 5) == "/api/" or uri:sub(1, 7) == "/media/"
    local ret = 0
    -- lighttpd checks Range only after this hook and then replaces the response headers
    -- (CORS included) by those of its error page: answer such a 416 here instead.
    if status == 200 and json_area and range_unsatisfiable(r.resp_body.len) then
        local len = r.resp_body.len
        r.resp_body.set({ '{"detail":"Requested range not satisfiable."}\n' })
        h["Content-Type"] = "application/json"
        h["Content-Range"] = "bytes */" .. len
        status = 416
        ret = 416
    end
    local origin = allowed_origin()
    if origin and not h["Access-Control-Allow-Origin"] then
        h["Access-Control-Allow-Origin"] = origin
        h["Access-Control-Allow-Credentials"] = "true"
        h["Vary"] = "Origin"
    end
    -- (the static API reference under /api/docs/ has its own headers, not its own
    -- error pages: those are the JSON bodies too)
    if status >= 400 and json_area then
        local ct = h["Content-Type"] or ""
        if ct:sub(1, 9) == "text/html" then
            h["Content-Type"] = "application/json"
        end
        if not h["X-Frame-Options"] then     -- not the application's own error
            h["X-Content-Type-Options"] = "nosniff"
            h["X-Frame-Options"] = "DENY"
            h["Referrer-Policy"] = "same-origin"
            h["Cache-Control"] = "no-store"
        end
        if status == 503 and not h["Retry-After"] then
            h["Retry-After"] = "5"
        end
    end
    return ret
end

local path = r.req_attr["uri.path"] or ""

-- A CORS preflight outside /api/ (static files: thumbnails, the admin panel, and the API
-- reference under /api/docs/) is answered
-- here as the application answers those under /api/ (CONTRACT.md: a preflight on any path
-- gets 200; lighttpd itself would send 404 for a missing file and no Allow-* headers).
-- The CORS headers proper are added by the response-start part above.
if r.req_attr["request.method"] == "OPTIONS" and r.req_header["Access-Control-Request-Method"]
    and (path:sub(1, 5) ~= "/api/" or path:sub(1, 10) == "/api/docs/") then
    local h = r.resp_header
    if allowed_origin() then
        h["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
        h["Access-Control-Allow-Headers"] =
            "accept, content-type, range, x-csrftoken, x-requested-with"
        h["Access-Control-Max-Age"] = "86400"
    end
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Referrer-Policy"] = "same-origin"
    return 200
end

-- Clients never reach the internal prefix directly.
if path:sub(1, #internal) == internal then
    return 404
end

local id, res, seg = path:match("^/api/video/([1-9]%d*)/(%d+p)/(%d+%.ts)$")
if not id or #key < 32 or #id > 18 or #seg > 12 then
    return 0
end
-- Only GET and HEAD are files; other methods (a preflight, a POST) are the application's.
local method = r.req_attr["request.method"]
if method ~= "GET" and method ~= "HEAD" then
    return 0
end
if res ~= "480p" and res ~= "720p" and res ~= "1080p" then
    return 0
end

local q = r.req_attr["uri.query"]
if not q then
    return 0
end
local e, s
for k, v in q:gmatch("([^&=]+)=([^&]*)") do
    if k == "e" then
        if e then return 0 end
        e = v
    elseif k == "s" then
        if s then return 0 end
        s = v
    end
end
if not e or not s or not e:match("^%d+$") or #e > 15 or #s ~= 64 then
    return 0
end
if tonumber(e) < c.time() then
    return 0
end

local addr = r.req_attr["request.remote-addr"] or ""
local want = string.lower(c.hmac("sha256", key, e .. "|" .. path .. "|" .. addr))
if not c.secret_eq(want, s) then
    return 0
end

r.req_attr["uri.path"] = internal .. id .. "/" .. res .. "/" .. seg
-- Headers are set here: conditionals on the original URL (/api/) stay in force after the
-- rewrite, so the configuration cannot be relied on for them.
local h = r.resp_header
h["Content-Type"] = "video/MP2T"
h["Cache-Control"] = "private, max-age=86400, immutable"
h["X-Content-Type-Options"] = "nosniff"
h["X-Frame-Options"] = "DENY"
h["Referrer-Policy"] = "same-origin"

local origin = allowed_origin()
if origin then
    h["Access-Control-Allow-Origin"] = origin
    h["Access-Control-Allow-Credentials"] = "true"
end
h["Vary"] = "Origin"
return 0
