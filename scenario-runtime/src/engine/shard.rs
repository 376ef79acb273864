//! Sharded runs: the i-th of N parts of a plan, and the identity that tells whether reports
//! are parts of the same plan.
//!
//! [`RunPlan::shard`] divides what adds up: the arrival rate (the start rate, every stage
//! target, the ramp-up's rate, `--query-rate`; a real number, divided exactly), `--count`, closed-model workers
//! and the open model's cap on traces in flight (whole numbers: the remainder goes to the first
//! shards, one each, so that the parts add up to the whole). The duration, the mix, the clock
//! and everything else stay as they are. Each shard gets its own content seed, derived from the
//! plan's seed and its index, so that no two shards send the same content even with `--seed`;
//! trace ids are random per process anyway.
//!
//! [`identity`] is a hash of the settings that shape the load (not of the seed, which is
//! random per process when not given): shards of one plan share it, and `scaletest merge`
//! refuses reports whose identities differ.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::engine::plan::RunPlan;
use crate::engine::schedule::{ClockKind, Load, RatePlan, Stage};
use crate::exec::mix;

/// Which part of a sharded run this is: `index` in `0..count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ShardId {
    pub index: u32,
    pub count: u32,
}

impl fmt::Display for ShardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard's report states about the whole plan it is part of.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShardPlan {
    pub id: ShardId,
    /// [`identity`] of the whole plan.
    pub plan_id: String,
    /// The whole plan's seed (the shard's content seed derives from it).
    pub base_seed: u64,
}

/// Why a plan cannot be divided as asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardError {
    /// No shards at all.
    NoShards,
    /// The index is not in `0..count`.
    IndexOutOfRange { index: u32, count: u32 },
    /// This shard's part of a whole number is zero: it would have nothing to do.
    NothingToDo { index: u32, count: u32, what: &'static str, total: u64 },
}

impl fmt::Display for ShardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShardError::NoShards => f.write_str("the number of shards is 0: expected 1 or more"),
            ShardError::IndexOutOfRange { index, count } => write!(
                f,
                "shard index {index} is not below the number of shards {count}: expected 0 to {}",
                count.saturating_sub(1)
            ),
            ShardError::NothingToDo { index, count, what, total } => write!(
                f,
                "shard {index}/{count} would have nothing to do: {what} {total} cannot be divided \
                 among {count} shards; expected at most {total} shards"
            ),
        }
    }
}

impl std::error::Error for ShardError {}

impl ShardError {
    /// Whether `index` of `count` names a shard at all.
    pub fn check(index: u32, count: u32) -> Result<(), ShardError> {
        if count == 0 {
            Err(ShardError::NoShards)
        } else if index >= count {
            Err(ShardError::IndexOutOfRange { index, count })
        } else {
            Ok(())
        }
    }
}

/// Shard `index`'s part of the whole number `total` divided among `count` shards: the first
/// `total % count` shards get one more, so the parts add up to `total`.
pub fn split_whole(total: u64, index: u32, count: u32) -> u64 {
    let (index, count) = (u64::from(index), u64::from(count.max(1)));
    total / count + u64::from(index < total % count)
}

/// A shard's part of a rate: an equal share.
pub fn split_rate(rate: f64, count: u32) -> f64 {
    rate / f64::from(count.max(1))
}

/// The content seed of shard `index` (the plan's own seed for a single shard).
pub fn shard_seed(seed: u64, id: ShardId) -> u64 {
    if id.count <= 1 { seed } else { mix(seed ^ 0x5348_4152_4400_0000, u64::from(id.index)) }
}

impl RunPlan {
    /// Part `index` of `count` of this plan (module docs: what is divided and how), with the
    /// shard's identity in `report.shard`.
    pub fn shard(&self, index: u32, count: u32) -> Result<RunPlan, ShardError> {
        ShardError::check(index, count)?;
        let id = ShardId { index, count };
        let whole = |what: &'static str, total: u64| {
            let part = split_whole(total, index, count);
            if part == 0 {
                Err(ShardError::NothingToDo { index, count, what, total })
            } else {
                Ok(part)
            }
        };
        let mut plan = self.clone();
        let w = &mut plan.workload;
        w.load = match &self.workload.load {
            Load::Open { plan: rates, max_in_flight } => Load::Open {
                plan: RatePlan {
                    start_rate: split_rate(rates.start_rate, count),
                    stages: rates
                        .stages
                        .iter()
                        .map(|s| Stage {
                            duration: s.duration,
                            target: split_rate(s.target, count),
                        })
                        .collect(),
                    from_stages: rates.from_stages,
                },
                max_in_flight: max_in_flight
                    .map(|cap| whole("--max-in-flight", cap as u64).map(|n| n as usize))
                    .transpose()?,
            },
            Load::Closed { workers, ramp_up, max_pending_spans } => Load::Closed {
                workers: whole("--concurrency", *workers as u64)? as usize,
                ramp_up: *ramp_up,
                max_pending_spans: *max_pending_spans,
            },
        };
        w.count = self.workload.count.map(|total| whole("--count", total)).transpose()?;
        w.seed = shard_seed(self.workload.seed, id);
        // The read load adds up too: each shard reads at its share of the rate.
        if let Some(query) = plan.query.as_mut() {
            query.rate_per_s = split_rate(query.rate_per_s, count);
        }
        plan.report.shard =
            Some(ShardPlan { id, plan_id: identity(self), base_seed: self.workload.seed });
        Ok(plan)
    }
}

/// 64-bit FNV-1a: stable across processes, builds and platforms.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// The identity of a plan's load: a hash of the settings that shape it (model, rates, stages,
/// caps, workers, ramp-up, duration, count, mix, clock, latency scale, drain, platform,
/// protocol, compression, export path, series interval and start time), as 16 hex digits. The seed is left out: it is
/// random per process unless given, and only changes content.
pub fn identity(plan: &RunPlan) -> String {
    let w = &plan.workload;
    let secs = |d: Duration| d.as_nanos();
    let load = match &w.load {
        Load::Open { plan: r, max_in_flight } => format!(
            "open rate={:?} stages={:?} user_stages={} cap={max_in_flight:?}",
            r.start_rate.to_bits(),
            r.stages.iter().map(|s| (secs(s.duration), s.target.to_bits())).collect::<Vec<_>>(),
            r.from_stages,
        ),
        Load::Closed { workers, ramp_up, max_pending_spans } => {
            format!(
                "closed workers={workers} ramp={} pending={max_pending_spans:?}",
                secs(*ramp_up)
            )
        }
    };
    let mix: Vec<(&str, u64)> =
        w.mix.weights().into_iter().map(|(n, x)| (n, x.to_bits())).collect();
    let clock = match w.clock {
        ClockKind::Real => "real",
        ClockKind::Synthetic => "synthetic",
    };
    let start_at = plan
        .report
        .start_at
        .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map(|d| d.as_millis());
    let text = format!(
        "{load}|duration={:?}|count={:?}|mix={mix:?}|clock={clock}|latency_scale={}|drain={}|\
         platform={}|protocol={}|compression={}|exporter={}|interval={}|start_at={start_at:?}",
        w.duration.map(secs),
        w.count,
        w.latency_scale.factor(),
        secs(w.drain_timeout),
        plan.target.platform.name(),
        plan.export.protocol,
        plan.export.compression,
        plan.export.path,
        secs(plan.report.series_interval),
    );
    format!("{:016x}", fnv1a(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::latency::LatencyScale;

    #[test]
    fn whole_numbers_add_up_with_the_remainder_first() {
        let parts: Vec<u64> = (0..3).map(|i| split_whole(10, i, 3)).collect();
        assert_eq!(parts, [4, 3, 3]);
        for total in [0u64, 1, 2, 7, 99, 100, 1_000_003, u64::MAX] {
            for count in [1u32, 2, 3, 7, 64, 1000] {
                let parts: Vec<u64> = (0..count).map(|i| split_whole(total, i, count)).collect();
                assert_eq!(parts.iter().map(|&p| u128::from(p)).sum::<u128>(), u128::from(total));
                let (lo, hi) = (parts.iter().min().unwrap(), parts.iter().max().unwrap());
                assert!(hi - lo <= 1, "{total}/{count}: {parts:?}");
                assert!(parts.windows(2).all(|p| p[0] >= p[1]), "first shards get more");
            }
        }
    }

    #[test]
    fn rates_add_up_to_the_whole() {
        for rate in [0.5, 1.0, 10.0, 33.3, 1000.0, 12_345.678] {
            for count in [1u32, 2, 3, 7, 100] {
                let sum: f64 = (0..count).map(|_| split_rate(rate, count)).sum();
                assert!((sum - rate).abs() <= rate * 1e-12, "{rate}/{count}: {sum}");
            }
        }
    }

    #[test]
    fn shard_seeds_differ_and_one_shard_keeps_the_seed() {
        let seeds: Vec<u64> =
            (0..16).map(|index| shard_seed(42, ShardId { index, count: 16 })).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 16);
        assert!(!seeds.contains(&42));
        assert_eq!(shard_seed(42, ShardId { index: 0, count: 1 }), 42);
    }

    #[test]
    fn errors_name_the_values() {
        assert_eq!(
            ShardError::NoShards.to_string(),
            "the number of shards is 0: expected 1 or more"
        );
        let e = ShardError::IndexOutOfRange { index: 3, count: 3 }.to_string();
        assert!(e.contains("3") && e.contains("0 to 2"), "{e}");
        let e = ShardError::NothingToDo { index: 2, count: 3, what: "--count", total: 2 };
        assert!(e.to_string().contains("--count 2"), "{e}");
    }

    fn scenario() -> &'static dyn crate::AnyScenario {
        use crate::latency::Latency;
        use crate::scenario::{Meta, Scenario};
        use crate::shape::{Range, Shape};
        use crate::step::Llm;
        let shape = Shape {
            spans: Range::exact(2),
            depth: 2,
            payload_bytes: Range::exact(0),
            llm_calls: Range::exact(1),
            tool_calls: Range::exact(0),
            tokens: Range::exact(0),
        };
        Box::leak(Box::new(Scenario {
            meta: Meta {
                name: "a",
                description: "test",
                agent: "assistant",
                model: "gpt-4o",
                provider: "openai",
                workflow: None,
                session: None,
                shape,
            },
            tree: Llm {
                id: 0,
                name: "answer",
                input_tokens: 10,
                output_tokens: 10,
                latency: Latency::fixed_micros(1000),
                model: "gpt-4o",
                provider: "openai",
                fail: 0.0,
                tool_calls: &[],
            },
        }))
    }

    fn plan(load: Load, count: Option<u64>) -> RunPlan {
        use crate::engine::plan::{
            ContentPlan, Endpoint, ExportPath, ExportPlan, ReportPlan, Target, VerifyPlan,
        };
        use crate::engine::schedule::{Mix, Workload};
        use crate::engine::sink::SinkConfig;
        use crate::platform::{PlatformId, PlatformSettings, Protocol};
        let platform = PlatformId::Otlp;
        let profile = platform.profile(&PlatformSettings::default()).unwrap();
        RunPlan {
            target: Target {
                platform,
                settings: PlatformSettings::default(),
                profile,
                endpoint: Endpoint::Embedded(SinkConfig::default()),
            },
            export: ExportPlan::new(ExportPath::Direct, Protocol::HttpProtobuf),
            workload: Workload {
                load,
                duration: Some(Duration::from_secs(60)),
                count,
                mix: Mix::new(&[(scenario(), 1.0)]).unwrap(),
                seed: 9,
                clock: ClockKind::Synthetic,
                latency_scale: LatencyScale::ONE,
                drain_timeout: Duration::from_secs(5),
            },
            content: ContentPlan::default(),
            report: ReportPlan::default(),
            verify: VerifyPlan::default(),
            query: None,
        }
    }

    fn shards(whole: &RunPlan, count: u32) -> Vec<RunPlan> {
        (0..count).map(|i| whole.shard(i, count).unwrap()).collect()
    }

    #[test]
    fn open_plans_divide_rates_stages_caps_and_counts() {
        let rates = RatePlan {
            start_rate: 7.0,
            stages: vec![
                Stage { duration: Duration::from_secs(10), target: 100.0 },
                Stage { duration: Duration::from_secs(20), target: 33.3 },
            ],
            from_stages: true,
        };
        let mut whole =
            plan(Load::Open { plan: rates.clone(), max_in_flight: Some(11) }, Some(1001));
        whole.query = Some(crate::engine::query::QueryPlan::new(5.0));
        for count in [1u32, 2, 3, 7] {
            let parts = shards(&whole, count);
            let reads: f64 =
                parts.iter().filter_map(|p| p.query.as_ref()).map(|q| q.rate_per_s).sum();
            assert!((reads - 5.0).abs() < 1e-9, "the read load adds up: {reads}");
            let mut caps = 0;
            let mut counts = 0;
            let mut start = 0.0;
            let mut targets = [0.0; 2];
            let mut arrivals = 0.0;
            for part in &parts {
                let Load::Open { plan: r, max_in_flight } = &part.workload.load else {
                    panic!("open")
                };
                caps += max_in_flight.unwrap();
                counts += part.workload.count.unwrap();
                start += r.start_rate;
                targets[0] += r.stages[0].target;
                targets[1] += r.stages[1].target;
                arrivals += r.cumulative(Duration::from_secs(45));
                assert_eq!(part.workload.duration, whole.workload.duration);
                assert!(r.from_stages);
            }
            assert_eq!(caps, 11);
            assert_eq!(counts, 1001);
            assert!((start - 7.0).abs() < 1e-9 && (targets[0] - 100.0).abs() < 1e-9);
            assert!((targets[1] - 33.3).abs() < 1e-9);
            let planned = rates.cumulative(Duration::from_secs(45));
            assert!((arrivals - planned).abs() < 1e-6, "{arrivals} vs {planned}");
        }
    }

    #[test]
    fn ramp_up_rates_and_closed_workers_divide() {
        let ramp = RatePlan::ramp_up(50.0, Duration::from_secs(5));
        let whole = plan(Load::Open { plan: ramp, max_in_flight: None }, None);
        let finals: f64 = shards(&whole, 3)
            .iter()
            .map(|p| match &p.workload.load {
                Load::Open { plan, .. } => plan.constant_rate().unwrap(),
                Load::Closed { .. } => unreachable!(),
            })
            .sum();
        assert!((finals - 50.0).abs() < 1e-9);

        let closed = Load::Closed { workers: 10, ramp_up: Duration::ZERO, max_pending_spans: None };
        let whole = plan(closed, Some(10));
        let workers: Vec<usize> = shards(&whole, 3)
            .iter()
            .map(|p| match p.workload.load {
                Load::Closed { workers, .. } => workers,
                Load::Open { .. } => unreachable!(),
            })
            .collect();
        assert_eq!(workers, [4, 3, 3]);
    }

    #[test]
    fn shards_share_the_identity_and_differ_in_seed() {
        let whole = plan(Load::Open { plan: RatePlan::constant(10.0), max_in_flight: None }, None);
        let parts = shards(&whole, 4);
        let ids: Vec<&ShardPlan> = parts.iter().map(|p| p.report.shard.as_ref().unwrap()).collect();
        assert!(ids.iter().all(|s| s.plan_id == identity(&whole) && s.base_seed == 9));
        assert_eq!(ids[2].id, ShardId { index: 2, count: 4 });
        let mut seeds: Vec<u64> = parts.iter().map(|p| p.workload.seed).collect();
        seeds.dedup();
        assert_eq!(seeds.len(), 4);
        // The seed is not part of the identity; the rate is.
        let mut other = whole.clone();
        other.workload.seed = 10;
        assert_eq!(identity(&other), identity(&whole));
        other.workload.load = Load::Open { plan: RatePlan::constant(11.0), max_in_flight: None };
        assert_ne!(identity(&other), identity(&whole));
        // So is the latency scale: slower agents are another workload.
        let mut slower = whole.clone();
        slower.workload.latency_scale = LatencyScale::new(2.0).unwrap();
        assert_ne!(identity(&slower), identity(&whole));
        // One shard of one is the whole plan.
        let one = whole.shard(0, 1).unwrap();
        assert_eq!(one.workload.seed, whole.workload.seed);
    }

    #[test]
    fn bad_divisions_are_refused() {
        let whole =
            plan(Load::Open { plan: RatePlan::constant(10.0), max_in_flight: None }, Some(2));
        assert_eq!(whole.shard(0, 0).unwrap_err(), ShardError::NoShards);
        assert_eq!(
            whole.shard(3, 3).unwrap_err(),
            ShardError::IndexOutOfRange { index: 3, count: 3 }
        );
        assert!(whole.shard(1, 3).is_ok());
        assert_eq!(
            whole.shard(2, 3).unwrap_err(),
            ShardError::NothingToDo { index: 2, count: 3, what: "--count", total: 2 }
        );
        let closed = Load::Closed { workers: 2, ramp_up: Duration::ZERO, max_pending_spans: None };
        assert!(matches!(
            plan(closed, None).shard(2, 3),
            Err(ShardError::NothingToDo { what: "--concurrency", .. })
        ));
    }
}
