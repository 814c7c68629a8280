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

-- Second use (magnet.attract-response-start-to in videoflix.conf): every response is
-- about to go out.  Responses lighttpd makes itself -- 503 application down, 413, 411
-- POST without Content-Length, static files -- lack the CORS headers the application puts
-- on its own: the frontend could not read them (CONTRACT.md: every response, errors and
-- files included, carries them).  Errors under /api/ also get the application's other
-- headers, and their JSON bodies (etc/lighttpd/errors) a JSON Content-Type.
local status = r.req_item.http_status
if status ~= 0 then
    local h = r.resp_header
    local origin = allowed_origin()
    if origin and not h["Access-Control-Allow-Origin"] then
        h["Access-Control-Allow-Origin"] = origin
        h["Access-Control-Allow-Credentials"] = "true"
        h["Vary"] = "Origin"
    end
    local uri = r.req_attr["request.uri"] or ""
    if status >= 400 and uri:sub(1, 5) == "/api/" then
        -- (the static API reference under /api/docs/ has its own headers, not its own
        -- error pages: those are the JSON bodies too)
        local ct = h["Content-Type"] or ""
        if ct:sub(1, 9) == "text/html" then
            h["Content-Type"] = "application/json"
        end
    end
    if status >= 400 and uri:sub(1, 5) == "/api/" and not h["X-Frame-Options"] then
        h["X-Content-Type-Options"] = "nosniff"
        h["X-Frame-Options"] = "DENY"
        h["Referrer-Policy"] = "same-origin"
        h["Cache-Control"] = "no-store"
        if status == 503 and not h["Retry-After"] then
            h["Retry-After"] = "5"
        end
    end
    return 0
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
