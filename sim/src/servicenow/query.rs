//! ServiceNow list semantics: the encoded query language of `sysparm_query` (`^` ANDs conditions,
//! `^OR` ORs with the previous one, `^^` is a literal caret; operators `=`, `!=`, `LIKE`,
//! `NOT LIKE`, `STARTSWITH`, `ENDSWITH`, `IN`, `NOT IN`, `ISEMPTY`, `ISNOTEMPTY`, `<`, `<=`, `>`,
//! `>=`, plus `ORDERBY`/`ORDERBYDESC`), and `sysparm_limit`/`sysparm_offset` paging with the
//! `X-Total-Count` and `Link` headers the real instance sends.

use url::form_urlencoded;

use super::record::Record;

/// The request's query parameters, in order (the `Link` header repeats them).
pub(super) struct Params(pub Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: Option<&str>) -> Self {
        let pairs = form_urlencoded::parse(raw.unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Params(pairs)
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub(super) fn bool(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `sysparm_fields` as a list; `None` when absent or empty.
    pub(super) fn fields(&self) -> Option<Vec<String>> {
        let names: Vec<String> = self
            .get("sysparm_fields")?
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        (!names.is_empty()).then_some(names)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Like,
    NotLike,
    StartsWith,
    EndsWith,
    In,
    NotIn,
    IsEmpty,
    IsNotEmpty,
    Lt,
    Le,
    Gt,
    Ge,
    /// A term the simulator does not understand: it matches nothing, like an instance with
    /// `glide.invalid_query.returns_no_rows=true`, so a malformed query fails loudly in tests.
    Invalid,
}

// Longest operators first so that `NOT LIKE` is not read as `N...` + `LIKE`, `<=` before `<`.
const OPS: &[(&str, Op)] = &[
    ("ISNOTEMPTY", Op::IsNotEmpty),
    ("ISEMPTY", Op::IsEmpty),
    ("STARTSWITH", Op::StartsWith),
    ("ENDSWITH", Op::EndsWith),
    ("NOT LIKE", Op::NotLike),
    ("NOT IN", Op::NotIn),
    ("LIKE", Op::Like),
    ("IN", Op::In),
    ("!=", Op::Ne),
    ("<=", Op::Le),
    (">=", Op::Ge),
    ("=", Op::Eq),
    ("<", Op::Lt),
    (">", Op::Gt),
];

#[derive(Debug, Clone)]
struct Cond {
    field: String,
    op: Op,
    value: String,
}

impl Cond {
    fn parse(term: &str) -> Cond {
        // Field names are lowercase (dot-walks allowed); operators are uppercase or symbols.
        let end = term
            .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'))
            .unwrap_or(term.len());
        let (field, rest) = term.split_at(end);
        for (token, op) in OPS {
            if let Some(value) = rest.strip_prefix(token) {
                return Cond {
                    field: field.to_string(),
                    op: *op,
                    value: value.to_string(),
                };
            }
        }
        Cond {
            field: field.to_string(),
            op: Op::Invalid,
            value: rest.to_string(),
        }
    }

    fn matches(&self, rec: &Record) -> bool {
        let Some(have) = rec.raw(&self.field) else {
            return false;
        };
        let (h, w) = (have.to_lowercase(), self.value.to_lowercase());
        let list = || self.value.split(',').map(str::trim).any(|v| v == have);
        match self.op {
            Op::Eq => have == self.value,
            Op::Ne => have != self.value,
            Op::Like => h.contains(&w),
            Op::NotLike => !h.contains(&w),
            Op::StartsWith => h.starts_with(&w),
            Op::EndsWith => h.ends_with(&w),
            Op::In => list(),
            Op::NotIn => !list(),
            Op::IsEmpty => have.is_empty(),
            Op::IsNotEmpty => !have.is_empty(),
            Op::Lt => have < self.value,
            Op::Le => have <= self.value,
            Op::Gt => have > self.value,
            Op::Ge => have >= self.value,
            Op::Invalid => false,
        }
    }
}

/// A parsed `sysparm_query`: an AND of OR-groups, plus ordering.
#[derive(Debug, Default)]
pub(super) struct EncodedQuery {
    groups: Vec<Vec<Cond>>,
    order: Vec<(String, bool)>,
}

impl EncodedQuery {
    pub(super) fn parse(q: &str) -> Self {
        let mut out = EncodedQuery::default();
        for term in split_terms(q) {
            if let Some(f) = term.strip_prefix("ORDERBYDESC") {
                out.order.push((f.to_string(), true));
            } else if let Some(f) = term.strip_prefix("ORDERBY") {
                out.order.push((f.to_string(), false));
            } else if term.starts_with("NQ") {
                // Multiple queries joined with ^NQ are not simulated.
                out.groups.push(vec![Cond::parse("NQ")]);
            } else if let (Some(rest), false) = (term.strip_prefix("OR"), out.groups.is_empty()) {
                if let Some(g) = out.groups.last_mut() {
                    g.push(Cond::parse(rest));
                }
            } else if !term.is_empty() {
                out.groups.push(vec![Cond::parse(&term)]);
            }
        }
        out
    }

    pub(super) fn matches(&self, rec: &Record) -> bool {
        self.groups.iter().all(|g| g.iter().any(|c| c.matches(rec)))
    }

    /// Filters and orders `rows` (insertion order unless the query says otherwise).
    pub(super) fn apply<'a>(&self, rows: impl Iterator<Item = &'a Record>) -> Vec<Record> {
        let mut hits: Vec<Record> = rows.filter(|r| self.matches(r)).cloned().collect();
        for (field, desc) in self.order.iter().rev() {
            hits.sort_by(|a, b| {
                let o = a.plain_value(field).cmp(&b.plain_value(field));
                if *desc {
                    o.reverse()
                } else {
                    o
                }
            });
        }
        hits
    }
}

/// Splits on `^`, keeping `^^` as a literal caret inside a term.
fn split_terms(q: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut cur = String::new();
    let mut chars = q.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '^' if chars.peek() == Some(&'^') => {
                chars.next();
                cur.push('^');
            }
            '^' => terms.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    terms.push(cur);
    terms
}

/// Documented default of `sysparm_limit`.
pub(super) const DEFAULT_LIMIT: usize = 10_000;

/// One page of a list answer, with the headers describing it.
pub(super) struct Page {
    pub rows: Vec<Record>,
    pub total: usize,
    pub link: String,
}

/// Cuts `rows` per `sysparm_limit`/`sysparm_offset` and builds the `Link` header. `first` and
/// `last` are always present, `prev` only after the first page and `next` only when more rows
/// follow, so a client can stop when `next` disappears.
pub(super) fn paginate(rows: Vec<Record>, params: &Params, base_url: &str, path: &str) -> Page {
    let num = |name: &str| {
        params
            .get(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
    };
    let limit = num("sysparm_limit")
        .filter(|l| *l > 0)
        .unwrap_or(DEFAULT_LIMIT);
    let offset = num("sysparm_offset").unwrap_or(0);
    let total = rows.len();
    let link_to = |off: usize| {
        let mut pairs: Vec<(String, String)> = params
            .0
            .iter()
            .filter(|(k, _)| k != "sysparm_offset" && k != "sysparm_limit")
            .cloned()
            .collect();
        pairs.push(("sysparm_limit".into(), limit.to_string()));
        pairs.push(("sysparm_offset".into(), off.to_string()));
        let q = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        format!("<{base_url}{path}?{q}>")
    };
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut links = vec![format!("{};rel=\"first\"", link_to(0))];
    if offset > 0 {
        links.push(format!(
            "{};rel=\"prev\"",
            link_to(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        links.push(format!("{};rel=\"next\"", link_to(offset + limit)));
    }
    links.push(format!("{};rel=\"last\"", link_to(last)));
    let rows = rows.into_iter().skip(offset).take(limit).collect();
    Page {
        rows,
        total,
        link: links.join(","),
    }
}
