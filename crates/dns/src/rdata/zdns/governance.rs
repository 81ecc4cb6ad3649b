//! Governance and economics: DAO (how a name's DAO decides) and ECON (what a name costs
//! and how the revenue is shared).

use std::fmt;

use super::fields::{BasisPoints, InvalidData};
use super::registry::GovernanceModel;
use crate::rdata::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// Reads a character-string of 1 to 255 bytes.
fn nonempty_string(f: &mut Fields<'_>, what: &str) -> Result<Vec<u8>, TextError> {
    let pos = f.pos();
    let s = f.char_string(what)?;
    if s.is_empty() {
        return Err(TextError::new(pos, format!("empty {what}")));
    }
    Ok(s)
}

/// The governance parameters of the DAO that controls the owner name (type 65284).
///
/// Presentation: `<model> <quorum> <approval> <voting-period> <timelock> <dao-id>`, e.g.
/// `TOKEN 20% 50% 604800 172800 "dao:sovereign"`. Periods are seconds and may be written
/// with units (`7d`, `48h`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dao {
    /// How votes are counted.
    pub model: GovernanceModel,
    /// Share of all votes that must take part for a decision to count.
    pub quorum: BasisPoints,
    /// Share of the votes cast that must approve.
    pub approval: BasisPoints,
    voting_period: u32,
    /// Seconds between approval and execution.
    pub timelock: u32,
    dao_id: Vec<u8>,
}

impl Dao {
    /// Governance parameters; the voting period must be at least one second and the DAO
    /// identifier 1 to 255 bytes.
    pub fn new(
        model: GovernanceModel,
        quorum: BasisPoints,
        approval: BasisPoints,
        voting_period: u32,
        timelock: u32,
        dao_id: Vec<u8>,
    ) -> Result<Dao, InvalidData> {
        if voting_period == 0 {
            return Err(InvalidData("voting period must be at least one second"));
        }
        if !(1..=255).contains(&dao_id.len()) {
            return Err(InvalidData("DAO identifier must be 1 to 255 bytes"));
        }
        Ok(Dao {
            model,
            quorum,
            approval,
            voting_period,
            timelock,
            dao_id,
        })
    }

    /// Seconds a proposal is open for votes.
    pub fn voting_period(&self) -> u32 {
        self.voting_period
    }

    /// The DAO's identifier (a name, DID or contract address as text).
    pub fn dao_id(&self) -> &[u8] {
        &self.dao_id
    }
}

impl RecordData for Dao {
    const RTYPE: Rtype = Rtype::DAO;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let model = GovernanceModel(r.u8()?);
        let quorum = BasisPoints::parse_wire(r)?;
        let approval = BasisPoints::parse_wire(r)?;
        let voting_period = r.u32()?;
        let timelock = r.u32()?;
        let dao_id = r.char_string()?.to_vec();
        Dao::new(model, quorum, approval, voting_period, timelock, dao_id)
            .map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.model.0)?;
        w.put_u16(self.quorum.get())?;
        w.put_u16(self.approval.get())?;
        w.put_u32(self.voting_period)?;
        w.put_u32(self.timelock)?;
        w.put_char_string(&self.dao_id)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let model = GovernanceModel::parse_field(f)?;
        let quorum = BasisPoints::parse_field(f, "quorum")?;
        let approval = BasisPoints::parse_field(f, "approval threshold")?;
        let period_pos = f.pos();
        let voting_period = f.ttl("voting period")?;
        let timelock = f.ttl("timelock")?;
        let dao_id = nonempty_string(f, "DAO identifier")?;
        Dao::new(model, quorum, approval, voting_period, timelock, dao_id)
            .map_err(|e| e.at_text(period_pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} ",
            self.model, self.quorum, self.approval, self.voting_period, self.timelock
        )?;
        write_char_string(&self.dao_id, f)
    }
}

/// One recipient's share of the fees.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RevenueShare {
    /// The share, more than 0%.
    pub share: BasisPoints,
    /// Who receives it (an account, DID or name as text), 1 to 255 bytes.
    pub recipient: Vec<u8>,
}

/// The fee structure of the owner name and how its revenue is shared (type 65285).
///
/// Presentation: `<registration-fee> <renewal-fee> <renewal-period> <currency>
/// [<share> <recipient> ...]`, e.g.
/// `1000000 500000 31536000 "ZHTP" 70% "dao:treasury" 30% "registrar"`. Fees are
/// integers in the currency's smallest unit. The shares add up to at most 100%; the
/// rest stays with the zone's operator.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Econ {
    /// Fee to register a name.
    pub registration_fee: u64,
    /// Fee per renewal period.
    pub renewal_fee: u64,
    /// Seconds a renewal lasts.
    pub renewal_period: u32,
    currency: Vec<u8>,
    shares: Vec<RevenueShare>,
}

impl Econ {
    /// A fee structure. The currency must be 1 to 255 bytes; every share more than 0%
    /// with a distinct recipient of 1 to 255 bytes; the shares at most 100% together.
    pub fn new(
        registration_fee: u64,
        renewal_fee: u64,
        renewal_period: u32,
        currency: Vec<u8>,
        shares: Vec<RevenueShare>,
    ) -> Result<Econ, InvalidData> {
        if !(1..=255).contains(&currency.len()) {
            return Err(InvalidData("currency must be 1 to 255 bytes"));
        }
        let mut total = 0u32;
        for (i, s) in shares.iter().enumerate() {
            if s.share.get() == 0 {
                return Err(InvalidData("revenue share of 0%"));
            }
            if !(1..=255).contains(&s.recipient.len()) {
                return Err(InvalidData("recipient must be 1 to 255 bytes"));
            }
            let seen = shares.get(..i).unwrap_or_default();
            if seen.iter().any(|p| p.recipient == s.recipient) {
                return Err(InvalidData("the same recipient is listed twice"));
            }
            total += u32::from(s.share.get());
        }
        if total > u32::from(BasisPoints::FULL.get()) {
            return Err(InvalidData("revenue shares add up to more than 100%"));
        }
        Ok(Econ {
            registration_fee,
            renewal_fee,
            renewal_period,
            currency,
            shares,
        })
    }

    /// The currency or token the fees are in.
    pub fn currency(&self) -> &[u8] {
        &self.currency
    }

    /// The revenue shares, in order.
    pub fn shares(&self) -> &[RevenueShare] {
        &self.shares
    }
}

impl RecordData for Econ {
    const RTYPE: Rtype = Rtype::ECON;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        let at = r.pos();
        let registration_fee = u64::from_be_bytes(r.array()?);
        let renewal_fee = u64::from_be_bytes(r.array()?);
        let renewal_period = r.u32()?;
        let currency = r.char_string()?.to_vec();
        let mut shares = Vec::new();
        while !r.is_empty() {
            shares.push(RevenueShare {
                share: BasisPoints::parse_wire(r)?,
                recipient: r.char_string()?.to_vec(),
            });
        }
        Econ::new(
            registration_fee,
            renewal_fee,
            renewal_period,
            currency,
            shares,
        )
        .map_err(|e| e.at_wire(at))
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_bytes(&self.registration_fee.to_be_bytes())?;
        w.put_bytes(&self.renewal_fee.to_be_bytes())?;
        w.put_u32(self.renewal_period)?;
        w.put_char_string(&self.currency)?;
        for s in &self.shares {
            w.put_u16(s.share.get())?;
            w.put_char_string(&s.recipient)?;
        }
        Ok(())
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let registration_fee = f.int("registration fee")?;
        let renewal_fee = f.int("renewal fee")?;
        let renewal_period = f.ttl("renewal period")?;
        let currency = nonempty_string(f, "currency")?;
        let shares_pos = f.pos();
        let mut shares = Vec::new();
        while !f.is_empty() {
            shares.push(RevenueShare {
                share: BasisPoints::parse_field(f, "revenue share")?,
                recipient: f.char_string("recipient")?,
            });
        }
        Econ::new(
            registration_fee,
            renewal_fee,
            renewal_period,
            currency,
            shares,
        )
        .map_err(|e| e.at_text(shares_pos))
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} ",
            self.registration_fee, self.renewal_fee, self.renewal_period
        )?;
        write_char_string(&self.currency, f)?;
        for s in &self.shares {
            write!(f, " {} ", s.share)?;
            write_char_string(&s.recipient, f)?;
        }
        Ok(())
    }
}
