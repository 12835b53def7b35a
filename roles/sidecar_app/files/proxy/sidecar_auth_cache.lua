-- The auth cache: the verifier's answers (200 with the user's name, 401 with its challenge), kept
-- in nginx's shared memory (lua_shared_dict auth_answers) for as long as the verifier's
-- Cache-Control says, so that a request whose Authorization header was answered recently costs
-- a hash and a lookup in memory, not a subrequest.
--
-- - Keyed by a SHA-1 of a random salt made at every start followed by the header: entries hold no
--   credential, have one size, and a key is exact (a near miss is another key).
-- - Fresh for max-age seconds; then, for stale-while-revalidate more, one request asks the
--   verifier again while the others are answered from the stale entry, so no request waits for
--   bcrypt when an entry expires under load. Past that the entry is gone: with the verifier down,
--   requests fail closed (500).
-- - Requests that find no entry each ask the verifier (no lock to wait on: it answers a header it
--   has matched from memory, and runs bcrypt once for one new header).
local _M = {}

local answers = ngx.shared.auth_answers
local capture, now, exit = ngx.location.capture, ngx.now, ngx.exit
local byte, sub, match, floor = string.byte, string.sub, string.match, math.floor

local ALLOWED = 43 -- "+": the entry is "+" and the user's name; "-" and the challenge is a 401
local RENEWING = "\0renewing"
local WRAP = 4294967296 -- an entry's fresh-until time is kept in its 32-bit flags, in ms

local salt
local keep_seconds -- the benchmark's steady variant only: a fixed lifetime instead of max-age

-- Runs in init_by_lua, in the master process: every worker gets the same salt, a new one at each
-- start or reload.
function _M.init(options)
    local urandom = assert(io.open("/dev/urandom", "rb"))
    salt = urandom:read(32)
    urandom:close()
    keep_seconds = options and options.keep_seconds
end

local function milliseconds()
    return floor(now() * 1000) % WRAP
end

-- Whether the 32-bit time `time` (ms) is still ahead: entries live seconds, far less than the 49 days
-- after which the clock wraps.
local function is_ahead(time)
    local left = (time - milliseconds()) % WRAP
    return left > 0 and left < WRAP / 2
end

-- Asks the verifier (location /_auth, the request's own headers) and keeps its answer.
local function ask(key)
    local answer = capture("/_auth")
    local entry
    if answer.status == ngx.HTTP_OK then
        entry = "+" .. (answer.header["X-Auth-User"] or "")
    elseif answer.status == ngx.HTTP_UNAUTHORIZED then
        entry = "-" .. (answer.header["WWW-Authenticate"] or "Basic")
    else
        return nil
    end
    local cache_control = answer.header["Cache-Control"] or ""
    local fresh = keep_seconds or tonumber(match(cache_control, "max%-age=(%d+)")) or 0
    local stale = keep_seconds and 0 or tonumber(match(cache_control, "stale%-while%-revalidate=(%d+)")) or 0
    if fresh > 0 then
        local ok, err = answers:set(key, entry, fresh + stale, (milliseconds() + fresh * 1000) % WRAP)
        if not ok then
            ngx.log(ngx.WARN, "auth cache: answer not kept: ", err)
        end
    end
    return entry
end

-- The access phase of every location behind the login: lets the request on with $auth_user set,
-- or ends it with 401 (and the verifier's challenge) or 500.
function _M.check()
    local key = ngx.sha1_bin(salt .. (ngx.var.http_authorization or ""))
    local entry, fresh_until = answers:get(key)
    if entry == nil then
        entry = ask(key)
    elseif not is_ahead(fresh_until) and answers:add(key .. RENEWING, true, 1) then
        entry = ask(key) or entry
        answers:delete(key .. RENEWING)
    end
    if entry == nil then
        return exit(ngx.HTTP_INTERNAL_SERVER_ERROR)
    end
    if byte(entry, 1) == ALLOWED then
        ngx.var.auth_user = sub(entry, 2)
        return
    end
    ngx.header["WWW-Authenticate"] = sub(entry, 2)
    return exit(ngx.HTTP_UNAUTHORIZED)
end

return _M
