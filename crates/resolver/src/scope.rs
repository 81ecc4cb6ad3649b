//! Zone scoping (seed 003 §16.1). Every zone says how far its names travel in a `_scope`
//! TXT record at `_scope.<zone>`: `class=local` (never resolved outside the local mesh
//! partition), `class=federated` (the default: mesh peers may be asked) or
//! `class=external` (an Internet bridge: answers are marked external, may fail when the
//! Internet is away, and are not kept as mesh data).
//!
//! [`ScopeTable`] holds the scopes the resolver knows (from the node's own zones and the
//! configuration) and answers, for a name, the scope of its closest enclosing zone.
//! [`Policy`] is what the resolver does with it before a query leaves the node.

use std::collections::HashMap;

use lib_dns::{Name, RData, Record, Rtype};

/// The label under which a zone publishes its scope.
pub const SCOPE_LABEL: &[u8] = b"_scope";

/// How far a zone's names may travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only within the local mesh partition.
    Local,
    /// Mesh peers and federated meshes (the default).
    Federated,
    /// The Internet, through a bridge.
    External,
}

impl Scope {
    /// Parses `class=local|federated|external` (case-insensitive, surrounding blanks
    /// ignored).
    pub fn parse(text: &str) -> Option<Scope> {
        let (key, value) = text.trim().split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("class") {
            return None;
        }
        match value.trim().to_ascii_lowercase().as_str() {
            "local" => Some(Scope::Local),
            "federated" => Some(Scope::Federated),
            "external" => Some(Scope::External),
            _ => None,
        }
    }

    /// The scope stated by `_scope` TXT records: the first well-formed one. Several
    /// different scopes are a misconfiguration; the most restrictive wins.
    pub fn from_records(records: &[Record]) -> Option<Scope> {
        records
            .iter()
            .filter_map(|r| match &r.data {
                RData::Txt(txt) => {
                    let text: Vec<u8> = txt.strings().flatten().copied().collect();
                    Scope::parse(&String::from_utf8_lossy(&text))
                }
                _ => None,
            })
            .min_by_key(|s| match s {
                Scope::Local => 0,
                Scope::External => 1,
                Scope::Federated => 2,
            })
    }

    /// The lowercase name of the class.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Local => "local",
            Scope::Federated => "federated",
            Scope::External => "external",
        }
    }
}

/// The `_scope` name of `zone`.
pub fn scope_name(zone: &Name) -> Option<Name> {
    zone.child(SCOPE_LABEL).ok()
}

/// The scopes of `_scope` TXT records found among `records` (a zone's records): each
/// `_scope.<zone>` owner gives `<zone>`'s scope.
pub fn scopes_in(records: &[Record]) -> Vec<(Name, Scope)> {
    let mut by_zone: HashMap<Name, Vec<Record>> = HashMap::new();
    for record in records.iter().filter(|r| r.rtype() == Rtype::TXT) {
        let first = record.owner.labels().next();
        if first.is_some_and(|l| l.eq_ignore_ascii_case(SCOPE_LABEL))
            && let Some(zone) = record.owner.parent()
        {
            by_zone.entry(zone).or_default().push(record.clone());
        }
    }
    by_zone
        .into_iter()
        .filter_map(|(zone, txt)| Scope::from_records(&txt).map(|s| (zone, s)))
        .collect()
}

/// Known zone scopes, matched by the longest enclosing zone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeTable {
    zones: HashMap<Name, Scope>,
}

impl ScopeTable {
    /// A table of the given (zone, scope) pairs; a later pair for the same zone wins.
    pub fn new(entries: impl IntoIterator<Item = (Name, Scope)>) -> ScopeTable {
        ScopeTable {
            zones: entries.into_iter().collect(),
        }
    }

    /// The scope of the closest enclosing zone of `name` that has one, with that zone.
    pub fn lookup(&self, name: &Name) -> Option<(&Name, Scope)> {
        let mut at = Some(name.clone());
        while let Some(n) = at {
            if let Some((zone, scope)) = self.zones.get_key_value(&n) {
                return Some((zone, *scope));
            }
            at = n.parent();
        }
        None
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.zones.is_empty()
    }
}

/// What the resolver may do with a name, given its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Resolve it, as any name.
    Resolve,
    /// Only upstreams inside the partition may be asked (forward zones marked so);
    /// never the root servers or other forwarders.
    PartitionOnly,
    /// Resolve it, but mark the answer external and do not keep it as mesh data.
    External,
}

impl ScopeTable {
    /// The policy for `name`.
    pub fn policy(&self, name: &Name) -> Policy {
        match self.lookup(name).map(|(_, s)| s) {
            Some(Scope::Local) => Policy::PartitionOnly,
            Some(Scope::External) => Policy::External,
            Some(Scope::Federated) | None => Policy::Resolve,
        }
    }
}

#[cfg(test)]
mod tests {
    use lib_dns::rdata::Txt;

    use super::*;

    fn name(text: &str) -> Name {
        Name::parse(text).unwrap()
    }

    fn txt(owner: &str, text: &str) -> Record {
        Record::new(name(owner), 300, Txt::new(&[text]).unwrap())
    }

    #[test]
    fn parses_the_classes() {
        assert_eq!(Scope::parse("class=local"), Some(Scope::Local));
        assert_eq!(Scope::parse(" CLASS = Federated "), Some(Scope::Federated));
        assert_eq!(Scope::parse("class=external"), Some(Scope::External));
        assert_eq!(Scope::parse("class=galactic"), None);
        assert_eq!(Scope::parse("kind=local"), None);
        assert_eq!(Scope::parse("local"), None);
        let conflicting = [
            txt("_scope.x.", "class=federated"),
            txt("_scope.x.", "class=local"),
        ];
        assert_eq!(
            Scope::from_records(&conflicting),
            Some(Scope::Local),
            "most restrictive"
        );
        assert_eq!(Scope::from_records(&[txt("_scope.x.", "junk")]), None);
    }

    #[test]
    fn finds_scopes_in_zone_data_and_matches_the_closest_zone() {
        let records = [
            txt("_scope.sovereign.", "class=federated"),
            txt("_scope.venue.sovereign.", "class=local"),
            txt("_scope.bridge.sovereign.", "class=external"),
            txt("other.sovereign.", "class=local"),
        ];
        let table = ScopeTable::new(scopes_in(&records));
        assert_eq!(table.policy(&name("alice.sovereign.")), Policy::Resolve);
        assert_eq!(
            table.policy(&name("printer.venue.sovereign.")),
            Policy::PartitionOnly
        );
        assert_eq!(
            table.policy(&name("venue.sovereign.")),
            Policy::PartitionOnly
        );
        assert_eq!(
            table.policy(&name("www.bridge.sovereign.")),
            Policy::External
        );
        assert_eq!(table.policy(&name("example.com.")), Policy::Resolve);
        assert_eq!(
            table.lookup(&name("a.b.venue.sovereign.")),
            Some((&name("venue.sovereign."), Scope::Local))
        );
        assert_eq!(
            scope_name(&name("venue.sovereign.")),
            Some(name("_scope.venue.sovereign."))
        );
    }
}
