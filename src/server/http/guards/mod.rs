//! What stands between a request and its handler: the origin check, CSRF tokens, CORS, limits
//! per client address, method rules; and the security headers every response carries. The
//! guards of writes and pages stand only before the requests they concern (`where_needed`).

pub mod abuse;
pub mod cors;
pub mod csrf;
pub mod methods;
pub mod origin;
pub mod security;
pub mod where_needed;
