// The key of nginx's cache of the verifier's answers: an HMAC of the Authorization header
// under a random key made when the container starts, so no credential is written to the
// cache, and answers cannot be reused across restarts.
const crypto = require('crypto');

function cacheKey(r) {
    return crypto.createHmac('sha256', process.env.AUTH_CACHE_KEY)
        .update(r.headersIn.Authorization || '')
        .digest('hex');
}

export default { cacheKey };
