//! Abuse limits, as mechanisms with no I/O: a rate (`30/minute`), a keyed rate limiter, and a
//! counter of open event streams per client address.
//!
//! The limiter is GCRA (the "generic cell rate algorithm"), a token bucket kept as one instant per
//! key: a rate of N per period allows a burst of N, then one more every period/N.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// A number of events per period, as written on the command line: `30/minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: u32,
    pub period: Duration,
}

impl Rate {
    pub const fn per_minute(count: u32) -> Rate {
        Rate {
            count,
            period: Duration::from_secs(60),
        }
    }

    /// This rate, `factor` times as fast (and with a burst `factor` times as large).
    pub fn times(self, factor: u32) -> Rate {
        Rate {
            count: self.count.saturating_mul(factor),
            period: self.period,
        }
    }

    /// The time one event uses up.
    fn interval(self) -> Duration {
        self.period / self.count.max(1)
    }
}

/// A write rate limit: a rate, or `off`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimit {
    Off,
    Every(Rate),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a rate limit: write COUNT/UNIT with a COUNT of at least 1 and a UNIT of second, minute or hour (e.g. `30/minute`), or `off`"
)]
pub struct RateLimitError(String);

impl FromStr for RateLimit {
    type Err = RateLimitError;

    fn from_str(raw: &str) -> Result<RateLimit, RateLimitError> {
        let error = || RateLimitError(raw.to_owned());
        let text = raw.trim().to_ascii_lowercase();
        if text == "off" {
            return Ok(RateLimit::Off);
        }
        let (count, unit) = text.split_once('/').ok_or_else(error)?;
        let count: u32 = count.trim().parse().map_err(|_| error())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1,
            "m" | "min" | "minute" => 60,
            "h" | "hour" => 3600,
            _ => return Err(error()),
        };
        if count == 0 {
            return Err(error());
        }
        Ok(RateLimit::Every(Rate {
            count,
            period: Duration::from_secs(seconds),
        }))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RateLimit::Off => f.write_str("off"),
            RateLimit::Every(rate) => {
                let unit = match rate.period.as_secs() {
                    1 => "second",
                    60 => "minute",
                    3600 => "hour",
                    other => return write!(f, "{}/{other}s", rate.count),
                };
                write!(f, "{}/{unit}", rate.count)
            }
        }
    }
}

/// After this many new keys, keys whose bucket is full again are forgotten.
const SWEEP_EVERY: usize = 4096;

struct Buckets<K> {
    /// Per key, the "theoretical arrival time": when its bucket is full again.
    full_at: HashMap<K, Instant>,
    inserted_since_sweep: usize,
}

/// Rate limits per key (a user, an address). `None` inside: no limit.
pub struct KeyedLimiter<K> {
    rate: Option<Rate>,
    buckets: Mutex<Buckets<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    pub fn new(limit: RateLimit) -> KeyedLimiter<K> {
        KeyedLimiter {
            rate: match limit {
                RateLimit::Off => None,
                RateLimit::Every(rate) => Some(rate),
            },
            buckets: Mutex::new(Buckets {
                full_at: HashMap::new(),
                inserted_since_sweep: 0,
            }),
        }
    }

    /// Takes one event for `key` now: `Err(wait)` when over the limit, `wait` being how long
    /// until one more is allowed. A refused event uses up nothing.
    pub fn check(&self, key: &K) -> Result<(), Duration> {
        self.check_at(key, Instant::now())
    }

    pub fn check_at(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let Some(rate) = self.rate else {
            return Ok(());
        };
        let interval = rate.interval();
        // A full bucket holds `count` events: the newest may run this far ahead of now.
        let burst = interval * (rate.count.max(1) - 1);
        let mut buckets = lock(&self.buckets);
        let full_at = buckets
            .full_at
            .get(key)
            .copied()
            .map_or(now, |at| at.max(now));
        let ahead = full_at - now;
        if ahead > burst {
            return Err(ahead - burst);
        }
        if buckets
            .full_at
            .insert(key.clone(), full_at + interval)
            .is_none()
        {
            buckets.inserted_since_sweep += 1;
            if buckets.inserted_since_sweep >= SWEEP_EVERY {
                buckets.full_at.retain(|_, at| *at > now);
                buckets.inserted_since_sweep = 0;
            }
        }
        Ok(())
    }
}

/// Open event streams per client address, up to a limit (0: unlimited).
#[derive(Clone)]
pub struct StreamCounter {
    limit: usize,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One open stream; dropping it (when the stream ends) gives its place back.
pub struct StreamSlot {
    address: IpAddr,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

impl StreamCounter {
    pub fn new(limit: usize) -> StreamCounter {
        StreamCounter {
            limit,
            open: Arc::default(),
        }
    }

    /// A place for one more stream from `address`, or `None` when it has `limit` open.
    pub fn open(&self, address: IpAddr) -> Option<StreamSlot> {
        let mut open = lock(&self.open);
        let count = open.entry(address).or_insert(0);
        if self.limit != 0 && *count >= self.limit {
            return None;
        }
        *count += 1;
        Some(StreamSlot {
            address,
            open: self.open.clone(),
        })
    }

    /// Streams open now from `address`.
    pub fn open_from(&self, address: IpAddr) -> usize {
        lock(&self.open).get(&address).copied().unwrap_or(0)
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = lock(&self.open);
        if let Some(count) = open.get_mut(&self.address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.address);
            }
        }
    }
}

/// A poisoned lock here only means another thread panicked mid-update of plain counters;
/// the counts are still usable.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_print() {
        assert_eq!(
            "30/minute".parse::<RateLimit>(),
            Ok(RateLimit::Every(Rate::per_minute(30)))
        );
        assert_eq!("OFF".parse::<RateLimit>(), Ok(RateLimit::Off));
        assert_eq!(
            " 5 / s ".parse::<RateLimit>().unwrap().to_string(),
            "5/second"
        );
        assert_eq!(
            "100/hour".parse::<RateLimit>().unwrap().to_string(),
            "100/hour"
        );
        for bad in [
            "",
            "30",
            "0/minute",
            "-1/minute",
            "30/fortnight",
            "x/minute",
        ] {
            assert!(bad.parse::<RateLimit>().is_err(), "{bad} parsed");
        }
    }

    #[test]
    fn a_burst_of_the_rate_then_one_per_interval() {
        let limiter = KeyedLimiter::new(RateLimit::Every(Rate::per_minute(30)));
        let start = Instant::now();
        for n in 0..30 {
            assert_eq!(limiter.check_at(&"ana", start), Ok(()), "event {n}");
        }
        let wait = limiter.check_at(&"ana", start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(2));
        // Refused events use up nothing: the same wait, and then exactly one more.
        assert_eq!(limiter.check_at(&"ana", start), Err(wait));
        assert_eq!(limiter.check_at(&"ana", start + wait), Ok(()));
        assert!(limiter.check_at(&"ana", start + wait).is_err());
        // Another key has its own bucket.
        assert_eq!(limiter.check_at(&"ben", start), Ok(()));
    }

    #[test]
    fn off_never_refuses() {
        let limiter = KeyedLimiter::new(RateLimit::Off);
        let now = Instant::now();
        assert!((0..10_000).all(|_| limiter.check_at(&1, now).is_ok()));
    }

    #[test]
    fn streams_are_counted_per_address_and_given_back() {
        let counter = StreamCounter::new(2);
        let here: IpAddr = "10.0.0.1".parse().unwrap();
        let there: IpAddr = "10.0.0.2".parse().unwrap();
        let first = counter.open(here).unwrap();
        let _second = counter.open(here).unwrap();
        assert!(counter.open(here).is_none());
        assert!(counter.open(there).is_some());
        drop(first);
        assert_eq!(counter.open_from(here), 1);
        assert!(counter.open(here).is_some());
        let unlimited = StreamCounter::new(0);
        let slots: Vec<_> = (0..1000).map(|_| unlimited.open(here).unwrap()).collect();
        assert_eq!(unlimited.open_from(here), 1000);
        drop(slots);
        assert_eq!(unlimited.open_from(here), 0);
    }
}
