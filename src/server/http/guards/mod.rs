//! What stands between a request and its handler: the origin check, CSRF tokens, CORS, limits
//! per client address, method rules; and the security headers every response carries.

pub mod abuse;
pub mod cors;
pub mod csrf;
pub mod methods;
pub mod origin;
pub mod security;
