//! Tool kinds and their JSON: pools of records, call arguments, definitions.
//!
//! Each kind has a pool of a few thousand JSON records (flights, hotels, ...) generated once from
//! a fixed seed; a tool result is assembled from records picked at random, so producing it costs
//! a few copies while its bytes look like a real API's answer.

use std::fmt::Write as _;

use rand::Rng;
use rand::rngs::SmallRng;

use super::facts::Facts;
use super::text::TextPool;
use super::vocab::*;

/// What a tool returns, guessed from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ToolKind {
    Flights,
    Hotels,
    Cars,
    Weather,
    Documents,
    Code,
    Tickets,
    Generic,
}

impl ToolKind {
    /// Every kind, in pool order.
    pub const ALL: [ToolKind; 8] = [
        ToolKind::Flights,
        ToolKind::Hotels,
        ToolKind::Cars,
        ToolKind::Weather,
        ToolKind::Documents,
        ToolKind::Code,
        ToolKind::Tickets,
        ToolKind::Generic,
    ];

    /// The kind a tool named like `search_flights` or `fetch_reviews` most likely is.
    pub fn for_tool(name: &str) -> Self {
        let lower = name.to_ascii_lowercase();
        let words: Vec<&str> = lower.split(|c: char| !c.is_ascii_alphanumeric()).collect();
        let has = |options: &[&str]| words.iter().any(|w| options.iter().any(|o| w.starts_with(o)));
        if has(&["flight", "fare", "airline", "airport", "seat", "itinerar", "baggage"]) {
            ToolKind::Flights
        } else if has(&["hotel", "room", "lodging", "stay", "review"]) {
            ToolKind::Hotels
        } else if words.iter().any(|w| *w == "car" || *w == "cars") || has(&["rental", "vehicle"]) {
            ToolKind::Cars
        } else if has(&["weather", "forecast", "climate"]) {
            ToolKind::Weather
        } else if has(&[
            "code", "diff", "patch", "edit", "test", "build", "compile", "lint", "repo",
        ]) {
            ToolKind::Code
        } else if has(&["ticket", "support", "crm", "customer", "refund", "order", "account"]) {
            ToolKind::Tickets
        } else if has(&["search", "retriev", "doc", "rerank", "fetch", "web", "knowledge", "rag"]) {
            ToolKind::Documents
        } else {
            ToolKind::Generic
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// What the tool does, for `gen_ai.tool.description` and tool definitions.
    pub fn description(self) -> &'static str {
        match self {
            ToolKind::Flights => "Search and price flights between two airports on a date",
            ToolKind::Hotels => "Search hotels in a city for given dates and guests",
            ToolKind::Cars => "Find rental cars at a pickup location",
            ToolKind::Weather => "Get the weather forecast for a city and date",
            ToolKind::Documents => "Search the knowledge base and return ranked documents",
            ToolKind::Code => "Read, edit and test files in the repository",
            ToolKind::Tickets => "Look up and update customer support tickets",
            ToolKind::Generic => "Query internal records by id or filter",
        }
    }

    /// The JSON schema of the tool's arguments.
    pub fn parameters_schema(self) -> &'static str {
        match self {
            ToolKind::Flights => {
                r#"{"type":"object","properties":{"origin":{"type":"string","description":"IATA code"},"destination":{"type":"string","description":"IATA code"},"date":{"type":"string","format":"date"},"passengers":{"type":"integer","minimum":1},"cabin":{"type":"string","enum":["economy","premium_economy","business","first"]}},"required":["origin","destination","date"]}"#
            }
            ToolKind::Hotels => {
                r#"{"type":"object","properties":{"city":{"type":"string"},"check_in":{"type":"string","format":"date"},"check_out":{"type":"string","format":"date"},"guests":{"type":"integer"},"max_price":{"type":"number"}},"required":["city","check_in","check_out"]}"#
            }
            ToolKind::Cars => {
                r#"{"type":"object","properties":{"pickup_location":{"type":"string"},"pickup_date":{"type":"string","format":"date"},"dropoff_date":{"type":"string","format":"date"},"class":{"type":"string"}},"required":["pickup_location","pickup_date"]}"#
            }
            ToolKind::Weather => {
                r#"{"type":"object","properties":{"city":{"type":"string"},"date":{"type":"string","format":"date"},"units":{"type":"string","enum":["metric","imperial"]}},"required":["city"]}"#
            }
            ToolKind::Documents => {
                r#"{"type":"object","properties":{"query":{"type":"string"},"top_k":{"type":"integer","default":10},"filters":{"type":"object"}},"required":["query"]}"#
            }
            ToolKind::Code => {
                r#"{"type":"object","properties":{"path":{"type":"string"},"command":{"type":"string"},"pattern":{"type":"string"}},"required":["path"]}"#
            }
            ToolKind::Tickets => {
                r#"{"type":"object","properties":{"ticket_id":{"type":"string"},"include_history":{"type":"boolean"},"status":{"type":"string"}},"required":["ticket_id"]}"#
            }
            ToolKind::Generic => {
                r#"{"type":"object","properties":{"id":{"type":"string"},"fields":{"type":"array","items":{"type":"string"}}},"required":["id"]}"#
            }
        }
    }
}

/// Picks from a list.
fn any<T: Copy>(rng: &mut SmallRng, list: &[T]) -> T {
    list[rng.random_range(0..list.len())]
}

fn date(rng: &mut SmallRng) -> String {
    format!("2026-{:02}-{:02}", rng.random_range(1..=12u32), rng.random_range(1..=28u32))
}

fn money(rng: &mut SmallRng, low: u32, high: u32) -> String {
    let cents = rng.random_range(low * 100..high * 100);
    format!(
        r#"{{"amount":{}.{:02},"currency":"{}"}}"#,
        cents / 100,
        cents % 100,
        any(rng, CURRENCIES)
    )
}

/// Call arguments for a tool of `kind` (a small JSON object). With `facts`, the arguments are
/// about the trace's trip, customer and order; a tool that acts on an offer (not a search)
/// passes `chosen`, the id of the offer the searches returned first.
pub fn arguments(
    kind: ToolKind,
    rng: &mut SmallRng,
    text: &TextPool,
    facts: Option<&Facts>,
    chosen: Option<&str>,
) -> String {
    if let Some(facts) = facts
        && let Some(arguments) = arguments_about(kind, facts, chosen)
    {
        return arguments;
    }
    match kind {
        ToolKind::Flights => {
            let (from, _) = any(rng, AIRPORTS);
            let (to, _) = any(rng, AIRPORTS);
            format!(
                r#"{{"origin":"{from}","destination":"{to}","date":"{}","passengers":{},"cabin":"{}"}}"#,
                date(rng),
                rng.random_range(1..=4u32),
                any(rng, &["economy", "economy", "premium_economy", "business"])
            )
        }
        ToolKind::Hotels => {
            let (_, city) = any(rng, AIRPORTS);
            let d = rng.random_range(1..=20u32);
            let month = rng.random_range(1..=12u32);
            format!(
                r#"{{"city":"{city}","check_in":"2026-{month:02}-{d:02}","check_out":"2026-{month:02}-{:02}","guests":{},"max_price":{}}}"#,
                d + rng.random_range(1..=7u32),
                rng.random_range(1..=4u32),
                rng.random_range(8..=60u32) * 10
            )
        }
        ToolKind::Cars => {
            let (code, _) = any(rng, AIRPORTS);
            let (_, class) = any(rng, CAR_MODELS);
            format!(
                r#"{{"pickup_location":"{code}","pickup_date":"{}","dropoff_date":"{}","class":"{class}"}}"#,
                date(rng),
                date(rng)
            )
        }
        ToolKind::Weather => {
            let (_, city) = any(rng, AIRPORTS);
            format!(r#"{{"city":"{city}","date":"{}","units":"metric"}}"#, date(rng))
        }
        ToolKind::Documents => {
            let len = rng.random_range(24..80);
            format!(
                r#"{{"query":"{}","top_k":{}}}"#,
                text.phrase(rng, len),
                any(rng, &[5u32, 10, 10, 20, 50])
            )
        }
        ToolKind::Code => {
            let path =
                format!("{}/{}.{}", any(rng, CODE_DIRS), any(rng, CODE_FILES), any(rng, CODE_EXTS));
            match rng.random_range(0..3u32) {
                0 => format!(r#"{{"path":"{path}"}}"#),
                1 => format!(r#"{{"path":"{path}","pattern":"fn {}"}}"#, any(rng, FUNCTIONS)),
                _ => format!(
                    r#"{{"path":"{path}","command":"cargo test -p {} {}"}}"#,
                    any(rng, CODE_FILES),
                    any(rng, FUNCTIONS)
                ),
            }
        }
        ToolKind::Tickets => format!(
            r#"{{"ticket_id":"SUP-{}","include_history":{}}}"#,
            rng.random_range(10_000..99_999u32),
            rng.random_bool(0.5)
        ),
        ToolKind::Generic => format!(
            r#"{{"id":"rec_{:08x}","fields":["name","status","updated_at"]}}"#,
            rng.random::<u32>()
        ),
    }
}

/// Builds `count` records of `kind`.
pub fn build_pool(kind: ToolKind, count: usize, seed: u64, text: &TextPool) -> Vec<String> {
    let mut rng = super::rng(seed ^ (kind.index() as u64).wrapping_mul(0x9E37_79B9));
    (0..count).map(|i| record(kind, i, &mut rng, text)).collect()
}

fn record(kind: ToolKind, i: usize, rng: &mut SmallRng, text: &TextPool) -> String {
    let mut out = String::with_capacity(400);
    let note_len = rng.random_range(30..160);
    // Records about places are laid out by destination: record `i` is about airport
    // `i % AIRPORTS.len()`, so a trace's results can all be about its destination.
    let (here_code, here_city) = AIRPORTS[i % AIRPORTS.len()];
    match kind {
        ToolKind::Flights => {
            let (code, airline) = any(rng, AIRLINES);
            let (from, _) = any(rng, AIRPORTS);
            let to = here_code;
            let number = rng.random_range(100..3000u32);
            let day = date(rng);
            let dep = rng.random_range(300..1380u32);
            let duration = rng.random_range(55..900u32);
            let arr = (dep + duration) % 1440;
            let _ = write!(
                out,
                r#"{{"id":"{code}{number}-{:04x}","airline":"{airline}","flight_number":"{code}{number}","destination":"{to}","origin":"{from}","date":"{day}","departure":"{:02}:{:02}","arrival":"{:02}:{:02}","duration_minutes":{duration},"stops":{},"cabin":"{}","fare_class":"{}","price":{},"seats_left":{},"refundable":{},"baggage":"{}","notes":"{}"}}"#,
                rng.random::<u16>(),
                dep / 60,
                dep % 60,
                arr / 60,
                arr % 60,
                any(rng, &[0u32, 0, 0, 1, 1, 2]),
                any(rng, &["economy", "economy", "premium_economy", "business"]),
                any(rng, &["Y", "B", "M", "K", "Q", "L", "J", "W"]),
                money(rng, 60, 2400),
                rng.random_range(1..40u32),
                rng.random_bool(0.3),
                any(
                    rng,
                    &["1 carry-on", "1 carry-on, 1 checked", "personal item only", "2 checked"]
                ),
                text.phrase(rng, note_len)
            );
        }
        ToolKind::Hotels => {
            let city = here_city;
            let brand = any(rng, HOTEL_BRANDS);
            let kind = any(rng, HOTEL_KINDS);
            let amenities: Vec<&str> =
                ["wifi", "breakfast", "pool", "gym", "spa", "parking", "bar"]
                    .into_iter()
                    .filter(|_| rng.random_bool(0.45))
                    .collect();
            let _ = write!(
                out,
                r#"{{"hotel_id":"htl_{}","name":"{brand} {kind} {city}","city":"{city}","address":"{} {} Street","stars":{},"rating":{}.{},"reviews":{},"price_per_night":{},"distance_km":{}.{},"amenities":["{}"],"cancellation":"free until {}","rooms_left":{},"summary":"{}"}}"#,
                10_000 + i,
                rng.random_range(1..300u32),
                any(rng, LAST_NAMES),
                rng.random_range(2..=5u32),
                rng.random_range(2..=4u32),
                rng.random_range(0..=9u32),
                rng.random_range(12..12_000u32),
                money(rng, 70, 900),
                rng.random_range(0..15u32),
                rng.random_range(0..=9u32),
                amenities.join("\",\""),
                date(rng),
                rng.random_range(1..20u32),
                text.phrase(rng, note_len)
            );
        }
        ToolKind::Cars => {
            let (model, class) = any(rng, CAR_MODELS);
            let code = here_code;
            let _ = write!(
                out,
                r#"{{"offer_id":"car_{:06x}","confirmation":"{}","vendor":"{}","model":"{model}","class":"{class}","location":"{code}","pickup_date":"{}","dropoff_date":"{}","pickup_time":"{:02}:00","dropoff_time":"{:02}:00","daily_rate":{},"mileage":"{}","transmission":"{}","seats":{},"insurance":"{}","conditions":"{}"}}"#,
                rng.random::<u32>() & 0xFF_FFFF,
                super::id("", rng.random(), 10),
                any(rng, CAR_VENDORS),
                date(rng),
                date(rng),
                rng.random_range(6..22u32),
                rng.random_range(6..22u32),
                money(rng, 25, 260),
                any(rng, &["unlimited", "200 mi/day", "300 km/day"]),
                any(rng, &["automatic", "automatic", "manual"]),
                any(rng, &[2u32, 4, 5, 5, 7]),
                any(rng, &["basic", "collision damage waiver", "full coverage", "none"]),
                text.phrase(rng, note_len)
            );
        }
        ToolKind::Weather => {
            let city = here_city;
            let high = rng.random_range(-5..38i32);
            let _ = write!(
                out,
                r#"{{"city":"{city}","date":"{}","condition":"{}","high_c":{high},"low_c":{},"precip_mm":{}.{},"wind_kph":{},"humidity":{},"uv_index":{},"sunrise":"0{}:{:02}","sunset":"{}:{:02}","summary":"{}"}}"#,
                date(rng),
                any(rng, CONDITIONS),
                high - rng.random_range(2..12i32),
                rng.random_range(0..40u32),
                rng.random_range(0..=9u32),
                rng.random_range(0..60u32),
                rng.random_range(20..100u32),
                rng.random_range(0..11u32),
                rng.random_range(5..8u32),
                rng.random_range(0..60u32),
                rng.random_range(17..21u32),
                rng.random_range(0..60u32),
                text.phrase(rng, note_len)
            );
        }
        ToolKind::Documents => {
            let title_len = rng.random_range(24..70);
            let snippet_len = rng.random_range(160..520);
            let _ = write!(
                out,
                r#"{{"doc_id":"doc_{:08x}","title":"{}","url":"https://{}/{}/{}","score":0.{:03},"updated":"{}","snippet":"{}"}}"#,
                rng.random::<u32>(),
                text.phrase(rng, title_len),
                any(rng, SITES),
                any(rng, CODE_FILES),
                rng.random_range(100..99_999u32),
                rng.random_range(100..999u32),
                date(rng),
                text.phrase(rng, snippet_len)
            );
        }
        ToolKind::Code => {
            let path =
                format!("{}/{}.{}", any(rng, CODE_DIRS), any(rng, CODE_FILES), any(rng, CODE_EXTS));
            let line = rng.random_range(10..800u32);
            let _ = write!(
                out,
                r#"{{"path":"{path}","status":"{}","additions":{},"deletions":{},"hunk":"@@ -{line},7 +{line},9 @@ fn {}","lines":["#,
                any(rng, &["modified", "modified", "added", "renamed"]),
                rng.random_range(1..40u32),
                rng.random_range(0..20u32),
                any(rng, FUNCTIONS)
            );
            for k in 0..rng.random_range(3..8u32) {
                if k > 0 {
                    out.push(',');
                }
                let sign = any(rng, &[" ", " ", "+", "-"]);
                let a = any(rng, IDENTIFIERS);
                let b = any(rng, IDENTIFIERS);
                let f = any(rng, FUNCTIONS);
                let _ = match rng.random_range(0..6u32) {
                    0 => write!(out, r#""{sign}    let {a} = {f}(&{b})?;""#),
                    1 => write!(out, r#""{sign}    if {a}.is_empty() {{ return Ok(None); }}""#),
                    2 => write!(out, r#""{sign}    {a}.insert({b}.clone());""#),
                    3 => write!(out, r#""{sign}    for {a} in {b}.iter() {{""#),
                    4 => write!(out, r#""{sign}    // {}""#, text.phrase(rng, note_len.min(90))),
                    _ => write!(out, r#""{sign}    self.{a} = {f}({b}, {});""#, line % 97),
                };
            }
            out.push_str("]}");
        }
        ToolKind::Tickets => {
            let first = any(rng, FIRST_NAMES);
            let last = any(rng, LAST_NAMES);
            let subject_len = rng.random_range(30..80);
            let _ = write!(
                out,
                r#"{{"ticket_id":"SUP-{}","customer":{{"name":"{first} {last}","email":"{}.{}@example.com","tier":"{}"}},"subject":"{}","status":"{}","priority":"{}","tags":["{}","{}"],"created":"{}T{:02}:{:02}:00Z","last_message":"{}"}}"#,
                rng.random_range(10_000..99_999u32),
                first.to_ascii_lowercase(),
                last.to_ascii_lowercase(),
                any(rng, &["basic", "silver", "gold", "platinum"]),
                text.phrase(rng, subject_len),
                any(rng, &["open", "pending", "waiting_on_customer", "resolved"]),
                any(rng, &["low", "normal", "normal", "high", "urgent"]),
                any(rng, TICKET_TAGS),
                any(rng, TICKET_TAGS),
                date(rng),
                rng.random_range(0..24u32),
                rng.random_range(0..60u32),
                text.phrase(rng, note_len * 2)
            );
        }
        ToolKind::Generic => {
            let name_len = rng.random_range(12..40);
            let _ = write!(
                out,
                r#"{{"id":"rec_{:08x}","type":"{}","name":"{}","status":"{}","value":{},"owner":"{} {}","updated_at":"{}","tags":["{}"],"description":"{}"}}"#,
                rng.random::<u32>(),
                any(rng, NOUNS),
                text.phrase(rng, name_len),
                any(rng, &["active", "active", "archived", "pending"]),
                rng.random_range(0..100_000u32),
                any(rng, FIRST_NAMES),
                any(rng, LAST_NAMES),
                date(rng),
                any(rng, TICKET_TAGS),
                text.phrase(rng, note_len)
            );
        }
    }
    out
}

/// The arguments of a call about `facts`, or `None` for kinds that name no trip, customer or
/// order (documents, code).
fn arguments_about(kind: ToolKind, facts: &Facts, chosen: Option<&str>) -> Option<String> {
    let (origin, _) = facts.origin();
    let (to, city) = facts.destination();
    let (start, end, guests) = (facts.start(), facts.end(), facts.guests());
    let mut out = match kind {
        ToolKind::Flights => format!(
            r#"{{"origin":"{origin}","destination":"{to}","date":"{start}","return_date":"{end}","passengers":{guests},"cabin":"economy""#
        ),
        ToolKind::Hotels => format!(
            r#"{{"city":"{city}","check_in":"{start}","check_out":"{end}","guests":{guests},"max_price":{}"#,
            100 + 40 * guests
        ),
        ToolKind::Cars => {
            format!(r#"{{"pickup_location":"{to}","pickup_date":"{start}","dropoff_date":"{end}""#)
        }
        ToolKind::Weather => format!(r#"{{"city":"{city}","date":"{start}","units":"metric""#),
        ToolKind::Tickets => {
            format!(
                r#"{{"ticket_id":"{}","order_id":"{}","include_history":true"#,
                facts.ticket(),
                facts.order()
            )
        }
        ToolKind::Generic => {
            format!(r#"{{"id":"{}","fields":["name","status","updated_at"]"#, facts.order())
        }
        ToolKind::Documents | ToolKind::Code => return None,
    };
    if let Some(chosen) = chosen {
        let key = match kind {
            ToolKind::Flights => "flight_id",
            ToolKind::Hotels => "hotel_id",
            ToolKind::Cars => "offer_id",
            _ => "id",
        };
        let _ = write!(out, r#","{key}":"{chosen}""#);
    }
    out.push('}');
    Some(out)
}

/// What a record of a kind about places says of the trip, as one stretch of its text that a
/// trace rewrites to its own facts: a flight's origin and date, a car's pickup and dropoff
/// days, a hotel's free-cancellation day, a forecast's day. The stretch has the same length
/// whatever the trip, so a record is copied in three pieces (before, the stretch, after).
pub fn trip_text(kind: ToolKind, facts: &Facts) -> String {
    let (origin, _) = facts.origin();
    let (start, end) = (facts.start(), facts.end());
    match kind {
        ToolKind::Flights => format!(r#"{origin}","date":"{start}"#),
        ToolKind::Cars => format!(r#"{start}","dropoff_date":"{end}"#),
        ToolKind::Hotels | ToolKind::Weather => start,
        _ => String::new(),
    }
}

/// Where the stretch [`trip_text`] rewrites starts in `record`, a record of `kind` (found by
/// its key: every record of a kind has the same keys in the same order).
pub fn trip_offset(kind: ToolKind, record: &str) -> Option<u16> {
    let key = match kind {
        ToolKind::Flights => r#""origin":""#,
        ToolKind::Cars => r#""pickup_date":""#,
        ToolKind::Hotels => r#""cancellation":"free until "#,
        ToolKind::Weather => r#""date":""#,
        _ => return None,
    };
    let at = record.find(key)? + key.len();
    u16::try_from(at).ok()
}

/// The id of an offer record of `kind` (`None` for kinds without offers).
pub fn offer_id(kind: ToolKind, record: &str) -> Option<&str> {
    let key = match kind {
        ToolKind::Flights => r#""id":""#,
        ToolKind::Hotels => r#""hotel_id":""#,
        ToolKind::Cars => r#""offer_id":""#,
        _ => return None,
    };
    let start = record.find(key)? + key.len();
    let len = record[start..].find('"')?;
    Some(&record[start..start + len])
}
