//! The node as a DNS client of other servers: SOA checks and NOTIFYs over UDP (TCP
//! when truncated), zone transfers in over TCP, each signed and verified with TSIG when
//! a key is configured (RFC 8945 §5.3: a reply that does not verify is discarded).

use std::net::SocketAddr;
use std::time::Duration;

use lib_dns::message::Message;
use lib_dns::name::Name;
use lib_dns::record::Record;
use lib_dns::tsig::{
    DEFAULT_FUDGE, StreamMessage, StreamVerifier, TsigKey, sign_request, verify_response,
};
use lib_dns::types::{Class, Rcode, Rtype};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::timeout;
use zdns_auth::diff::soa_serial;
use zdns_auth::xfr_in::{Transfer, TransferReader};

use super::now_secs;

/// A transfer holds at most this many records (a bound against a hostile primary).
pub const MAX_TRANSFER_RECORDS: usize = 50_000_000;
/// Waiting for any one message of a transfer.
const TRANSFER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting to a primary.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A random message ID (RFC 5452 §9.2: IDs must not be guessable).
pub fn random_id() -> u16 {
    let mut b = [0u8; 2];
    if getrandom(&mut b).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        return (nanos ^ (nanos >> 16)) as u16;
    }
    u16::from_be_bytes(b)
}

fn getrandom(buf: &mut [u8]) -> std::io::Result<()> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")?.read_exact(buf)
}

/// A request in wire form, signed with `key` when given; also the MAC to verify the
/// reply against.
fn encode(msg: &Message, key: Option<&TsigKey>) -> Result<(Vec<u8>, Option<Vec<u8>>), String> {
    let bytes = msg
        .to_wire(usize::from(u16::MAX))
        .map_err(|e| format!("cannot write request: {e}"))?;
    match key {
        Some(k) => {
            let signed = sign_request(&bytes, k, now_secs(), DEFAULT_FUDGE)
                .map_err(|e| format!("cannot sign request: {e}"))?;
            Ok((signed.message, Some(signed.mac)))
        }
        None => Ok((bytes, None)),
    }
}

/// Parses a reply and, when the request was signed, verifies its TSIG.
fn decode(bytes: &[u8], key: Option<&TsigKey>, mac: Option<&[u8]>) -> Result<Message, String> {
    if let (Some(k), Some(mac)) = (key, mac) {
        verify_response(bytes, k, mac, now_secs()).map_err(|e| format!("reply TSIG: {e}"))?;
    }
    let mut msg = Message::parse(bytes).map_err(|e| format!("malformed reply: {e}"))?;
    msg.additional.retain(|r| r.rtype() != Rtype::TSIG);
    Ok(msg)
}

/// Sends `msg` over UDP and waits up to `wait` for the reply with its ID; retries over
/// TCP when the reply is truncated.
pub async fn exchange_udp(
    to: SocketAddr,
    msg: &Message,
    key: Option<&TsigKey>,
    wait: Duration,
) -> Result<Message, String> {
    let (bytes, mac) = encode(msg, key)?;
    let local: SocketAddr = if to.is_ipv4() {
        "0.0.0.0:0".parse().map_err(|_| "address")?
    } else {
        "[::]:0".parse().map_err(|_| "address")?
    };
    let socket = UdpSocket::bind(local).await.map_err(|e| e.to_string())?;
    socket.connect(to).await.map_err(|e| e.to_string())?;
    socket.send(&bytes).await.map_err(|e| e.to_string())?;
    let mut buf = vec![0u8; 65535];
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let n = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
            .await
            .map_err(|_| format!("no reply from {to} in {wait:?}"))?
            .map_err(|e| e.to_string())?;
        let Some(reply) = buf.get(..n) else { continue };
        // Anything that is not the reply to our ID is ignored (RFC 5452 §9.1).
        if reply.get(..2) != Some(&msg.id.to_be_bytes()[..]) {
            continue;
        }
        if reply.get(2).is_some_and(|b| b & 0x02 != 0) {
            return exchange_tcp(to, msg, key).await;
        }
        return decode(reply, key, mac.as_deref());
    }
}

/// Sends `msg` over TCP and reads one reply.
pub async fn exchange_tcp(
    to: SocketAddr,
    msg: &Message,
    key: Option<&TsigKey>,
) -> Result<Message, String> {
    let (bytes, mac) = encode(msg, key)?;
    let mut stream = connect(to).await?;
    write_framed(&mut stream, &bytes).await?;
    let reply = read_framed(&mut stream).await?;
    decode(&reply, key, mac.as_deref())
}

async fn connect(to: SocketAddr) -> Result<TcpStream, String> {
    timeout(CONNECT_TIMEOUT, TcpStream::connect(to))
        .await
        .map_err(|_| format!("cannot connect to {to}: timed out"))?
        .map_err(|e| format!("cannot connect to {to}: {e}"))
}

async fn write_framed(stream: &mut TcpStream, bytes: &[u8]) -> Result<(), String> {
    let len = u16::try_from(bytes.len()).map_err(|_| "request too long for TCP")?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.map_err(|e| e.to_string())
}

async fn read_framed(stream: &mut TcpStream) -> Result<Vec<u8>, String> {
    let mut prefix = [0u8; 2];
    timeout(TRANSFER_READ_TIMEOUT, stream.read_exact(&mut prefix))
        .await
        .map_err(|_| "timed out waiting for a message".to_owned())?
        .map_err(|e| format!("connection closed: {e}"))?;
    let mut msg = vec![0u8; usize::from(u16::from_be_bytes(prefix))];
    timeout(TRANSFER_READ_TIMEOUT, stream.read_exact(&mut msg))
        .await
        .map_err(|_| "timed out in the middle of a message".to_owned())?
        .map_err(|e| format!("connection closed: {e}"))?;
    Ok(msg)
}

/// Asks `primary` for the serial of `zone`.
pub async fn soa_serial_of(
    primary: SocketAddr,
    zone: &Name,
    key: Option<&TsigKey>,
) -> Result<u32, String> {
    let mut q = Message::query(random_id(), zone.clone(), Rtype::SOA);
    q.flags.rd = false;
    let reply = exchange_udp(primary, &q, key, Duration::from_secs(2)).await?;
    if reply.rcode != Rcode::NOERROR {
        return Err(format!("SOA query answered {}", reply.rcode));
    }
    if !reply.flags.aa {
        return Err("SOA answer is not authoritative".into());
    }
    reply
        .answers
        .iter()
        .find(|r| r.rtype() == Rtype::SOA && r.owner.eq_ignore_case(zone))
        .and_then(soa_serial)
        .ok_or_else(|| "no SOA in the answer".to_owned())
}

/// Transfers `zone` from `primary`: IXFR from `from` when given, else AXFR.
pub async fn transfer(
    primary: SocketAddr,
    zone: &Name,
    from: Option<u32>,
    soa_for_ixfr: Option<&Record>,
    key: Option<&TsigKey>,
) -> Result<Transfer, String> {
    let id = random_id();
    let qtype = if from.is_some() {
        Rtype::IXFR
    } else {
        Rtype::AXFR
    };
    let mut q = Message::query(id, zone.clone(), qtype);
    q.flags.rd = false;
    if from.is_some() {
        // RFC 1995 §3: our SOA in the authority section.
        q.authority.extend(soa_for_ixfr.cloned());
    }
    let (bytes, mac) = encode(&q, key)?;
    let mut stream = connect(primary).await?;
    write_framed(&mut stream, &bytes).await?;
    let mut verifier = match (key, &mac) {
        (Some(k), Some(m)) => Some(StreamVerifier::new(k.clone(), m)),
        _ => None,
    };
    let mut reader = TransferReader::new(id, zone.clone(), Class::IN, from, MAX_TRANSFER_RECORDS);
    loop {
        let raw = read_framed(&mut stream).await?;
        if let Some(v) = verifier.as_mut() {
            match v.verify(&raw, now_secs()) {
                Ok(StreamMessage::Signed(_) | StreamMessage::Unsigned) => {}
                Err(e) => return Err(format!("transfer TSIG: {e}")),
            }
        }
        let mut msg =
            Message::parse(&raw).map_err(|e| format!("malformed transfer message: {e}"))?;
        msg.additional.retain(|r| r.rtype() != Rtype::TSIG);
        if let Some(done) = reader.push(&msg).map_err(|e| e.to_string())? {
            if let Some(v) = &verifier {
                // RFC 8945 §5.3.1: the last message must be signed.
                v.finish().map_err(|e| format!("transfer TSIG: {e}"))?;
            }
            return Ok(done);
        }
    }
}
