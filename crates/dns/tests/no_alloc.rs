//! Proves that `QueryView::parse` does not allocate, with a global allocator that counts
//! the allocations made by the current thread.
// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
// A global allocator can only be written with `unsafe impl GlobalAlloc`; it forwards to
// the system allocator unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use lib_dns::message::{Cookie, Edns, EdnsOption, QueryView};
use lib_dns::{Message, Name, Record, Rtype};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with` because the allocator may run while thread-locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (out, ALLOCATIONS.with(Cell::get) - before)
}

#[test]
fn query_view_parse_does_not_allocate() {
    let mut q = Message::query(7, Name::parse("WWW.Example.COM.").unwrap(), Rtype::AAAA);
    let mut edns = Edns::default();
    edns.set_dnssec_ok(true);
    edns.options
        .push(EdnsOption::Cookie(Cookie::new([1; 8], &[2; 16]).unwrap()));
    edns.options.push(EdnsOption::Nsid(Vec::new()));
    q.edns = Some(edns);
    // A record in the authority section, as an UPDATE or a NOTIFY might carry, so the
    // skipping code runs too.
    q.authority.push(Record::new(
        Name::parse("example.com.").unwrap(),
        60,
        lib_dns::rdata::A([192, 0, 2, 1].into()),
    ));
    let wire = q.to_wire(512).unwrap();

    let (view, n) = allocations_during(|| QueryView::parse(&wire));
    let view = view.unwrap();
    assert_eq!(n, 0, "QueryView::parse allocated {n} times");
    assert_eq!(view.qname_lower(), b"\x03www\x07example\x03com\x00");
    let edns = view.edns.unwrap();
    assert!(edns.dnssec_ok() && edns.other_options);
    assert_eq!(edns.cookie.map(<[u8]>::len), Some(24));

    // Errors do not allocate either.
    let (err, n) = allocations_during(|| QueryView::parse(&wire[..wire.len() - 3]).is_err());
    assert!(err);
    assert_eq!(n, 0);

    // The counter works: the owned parse allocates.
    let (_, n) = allocations_during(|| Message::parse(&wire));
    assert!(n > 0);
}
