//! Records that locate mesh nodes and services: MESH (a mesh node endpoint), WEB4MESH (a
//! Web4 service endpoint) and WEB4DHT (a DHT node serving a domain's content).

use std::fmt;

use super::fields::{Endpoint, hex_word, read_short_bytes};
use super::registry::{Network, Transport};
use crate::rdata::RecordData;
use crate::text::{Fields, TextError, write_char_string};
use crate::types::Rtype;
use crate::wire::{WireError, WireReader, WireWriter};

/// A mesh node endpoint: which node, and where and how to reach it (type 65281).
///
/// Presentation: `<priority> <weight> <transport> <node-id hex> <endpoint>`, e.g.
/// `10 100 QUIC 7F3A8B2C 10.42.1.5:9333`. Priority and weight select among endpoints as
/// SRV's do (RFC 2782).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mesh {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative share among endpoints of equal priority.
    pub weight: u16,
    /// How the endpoint is reached.
    pub transport: Transport,
    /// The node's identifier, 1 to 255 bytes.
    node_id: Vec<u8>,
    /// Where the node listens.
    pub endpoint: Endpoint,
}

impl Mesh {
    /// A mesh endpoint; `None` if `node_id` is empty or longer than 255 bytes.
    pub fn new(
        priority: u16,
        weight: u16,
        transport: Transport,
        node_id: Vec<u8>,
        endpoint: Endpoint,
    ) -> Option<Mesh> {
        (1..=255).contains(&node_id.len()).then_some(Mesh {
            priority,
            weight,
            transport,
            node_id,
            endpoint,
        })
    }

    /// The node's identifier.
    pub fn node_id(&self) -> &[u8] {
        &self.node_id
    }
}

impl RecordData for Mesh {
    const RTYPE: Rtype = Rtype::MESH;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Mesh {
            priority: r.u16()?,
            weight: r.u16()?,
            transport: Transport(r.u8()?),
            node_id: read_short_bytes(r, "empty node identifier")?,
            endpoint: Endpoint::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.priority)?;
        w.put_u16(self.weight)?;
        w.put_u8(self.transport.0)?;
        w.put_char_string(&self.node_id)?;
        self.endpoint.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Mesh {
            priority: f.u16("priority")?,
            weight: f.u16("weight")?,
            transport: Transport::parse_field(f)?,
            node_id: hex_word(f, "node identifier")?,
            endpoint: Endpoint::parse_field(f, "endpoint")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.priority, self.weight, self.transport)?;
        crate::encoding::hex_encode(&self.node_id, f)?;
        write!(f, " {}", self.endpoint)
    }
}

/// A Web4 service endpoint of a domain (type 65293).
///
/// Presentation: `<priority> <weight> <transport> <service> <endpoint>`, e.g.
/// `10 100 QUIC "zhtp" alice.sovereign.:9333`. The service is an application protocol
/// identifier (an ALPN-style character-string, 1 to 255 bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Web4mesh {
    /// Lower is tried first.
    pub priority: u16,
    /// Relative share among endpoints of equal priority.
    pub weight: u16,
    /// How the endpoint is reached.
    pub transport: Transport,
    /// The application protocol spoken there.
    service: Vec<u8>,
    /// Where the service listens.
    pub endpoint: Endpoint,
}

impl Web4mesh {
    /// A service endpoint; `None` if `service` is empty or longer than 255 bytes.
    pub fn new(
        priority: u16,
        weight: u16,
        transport: Transport,
        service: Vec<u8>,
        endpoint: Endpoint,
    ) -> Option<Web4mesh> {
        (1..=255).contains(&service.len()).then_some(Web4mesh {
            priority,
            weight,
            transport,
            service,
            endpoint,
        })
    }

    /// The application protocol identifier.
    pub fn service(&self) -> &[u8] {
        &self.service
    }
}

impl RecordData for Web4mesh {
    const RTYPE: Rtype = Rtype::WEB4MESH;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Web4mesh {
            priority: r.u16()?,
            weight: r.u16()?,
            transport: Transport(r.u8()?),
            service: read_short_bytes(r, "empty service identifier")?,
            endpoint: Endpoint::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u16(self.priority)?;
        w.put_u16(self.weight)?;
        w.put_u8(self.transport.0)?;
        w.put_char_string(&self.service)?;
        self.endpoint.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        let priority = f.u16("priority")?;
        let weight = f.u16("weight")?;
        let transport = Transport::parse_field(f)?;
        let pos = f.pos();
        let service = f.char_string("service")?;
        if service.is_empty() {
            return Err(TextError::new(pos, "empty service identifier"));
        }
        Ok(Web4mesh {
            priority,
            weight,
            transport,
            service,
            endpoint: Endpoint::parse_field(f, "endpoint")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {} ", self.priority, self.weight, self.transport)?;
        write_char_string(&self.service, f)?;
        write!(f, " {}", self.endpoint)
    }
}

/// A DHT node that serves a domain's content (type 65292).
///
/// Presentation: `<network> <node-id hex> <endpoint>`, e.g.
/// `ZHTP 9C1D5E7A node1.sovereign.:4001`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Web4dht {
    /// Which DHT the node belongs to.
    pub network: Network,
    /// The node's identifier in that DHT, 1 to 255 bytes.
    node_id: Vec<u8>,
    /// Where the node listens.
    pub endpoint: Endpoint,
}

impl Web4dht {
    /// A DHT node; `None` if `node_id` is empty or longer than 255 bytes.
    pub fn new(network: Network, node_id: Vec<u8>, endpoint: Endpoint) -> Option<Web4dht> {
        (1..=255).contains(&node_id.len()).then_some(Web4dht {
            network,
            node_id,
            endpoint,
        })
    }

    /// The node's identifier.
    pub fn node_id(&self) -> &[u8] {
        &self.node_id
    }
}

impl RecordData for Web4dht {
    const RTYPE: Rtype = Rtype::WEB4DHT;

    fn parse_wire(r: &mut WireReader<'_>) -> Result<Self, WireError> {
        Ok(Web4dht {
            network: Network(r.u8()?),
            node_id: read_short_bytes(r, "empty node identifier")?,
            endpoint: Endpoint::parse_wire(r)?,
        })
    }

    fn write_wire(&self, w: &mut WireWriter) -> Result<(), WireError> {
        w.put_u8(self.network.0)?;
        w.put_char_string(&self.node_id)?;
        self.endpoint.write_wire(w)
    }

    fn parse_text(f: &mut Fields<'_>) -> Result<Self, TextError> {
        Ok(Web4dht {
            network: Network::parse_field(f)?,
            node_id: hex_word(f, "node identifier")?,
            endpoint: Endpoint::parse_field(f, "endpoint")?,
        })
    }

    fn fmt_text(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.network)?;
        crate::encoding::hex_encode(&self.node_id, f)?;
        write!(f, " {}", self.endpoint)
    }
}
