//! Recycled scratch buffers: the requested length, reuse of a dropped buffer (contents
//! left as they were), and fresh zeros when no free buffer is large enough.
use ember::cpu::scratch::Scratch;

#[test]
fn dropped_buffers_are_handed_out_again() {
    let mut a = Scratch::take(1000);
    assert_eq!(a.len(), 1000);
    assert!(a.iter().all(|&v| v == 0.0));
    a.fill(7.0);
    let ptr = a.as_ptr();
    drop(a);
    // a shorter request reuses the buffer without rewriting it
    let b = Scratch::take(600);
    assert_eq!((b.len(), b.as_ptr()), (600, ptr));
    assert!(b.iter().all(|&v| v == 7.0));
    // none free is large enough: zeros
    let c = Scratch::take(5000);
    assert_eq!(c.len(), 5000);
    assert!(c.iter().all(|&v| v == 0.0));
}
