//! Canonical output: one record per line, absolute names, explicit TTL and class, in
//! RFC 4034 §6 canonical order, duplicates removed (RFC 2181 §5).

use std::cmp::Ordering;
use std::io::{self, Write};

use super::Zone;
use crate::wire::WireError;

impl Zone {
    /// Indices of the records in canonical order (owner, type, canonical wire data),
    /// keeping the first-read of each set of duplicates.
    pub fn canonical_order(&self) -> Result<Vec<usize>, WireError> {
        let mut arena = Vec::new();
        let mut spans = Vec::with_capacity(self.records.len());
        let mut w = crate::wire::WireWriter::canonical();
        for r in &self.records {
            w.truncate(0);
            r.data.write_wire(&mut w)?;
            let start = arena.len();
            arena.extend_from_slice(w.as_bytes());
            spans.push((start, arena.len()));
        }
        let data = |i: usize| -> &[u8] {
            spans
                .get(i)
                .and_then(|&(s, e)| arena.get(s..e))
                .unwrap_or_default()
        };
        let cmp = |a: usize, b: usize| -> Ordering {
            match (self.records.get(a), self.records.get(b)) {
                (Some(x), Some(y)) => x
                    .owner
                    .cmp(&y.owner)
                    .then_with(|| x.rtype().cmp(&y.rtype()))
                    .then_with(|| data(a).cmp(data(b))),
                _ => Ordering::Equal,
            }
        };
        let mut order: Vec<usize> = (0..self.records.len()).collect();
        order.sort_by(|&a, &b| cmp(a, b));
        order.dedup_by(|a, b| cmp(*a, *b) == Ordering::Equal);
        Ok(order)
    }

    /// Writes the zone in canonical form: `owner TTL CLASS TYPE data`, tab-separated,
    /// one record per line, without `$ORIGIN` or `$TTL`.
    pub fn write_canonical(&self, out: &mut dyn Write) -> io::Result<()> {
        let order = self
            .canonical_order()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        for i in order {
            if let Some(r) = self.records.get(i) {
                writeln!(out, "{r}")?;
            }
        }
        Ok(())
    }
}
