//! MSSanté sending rules (Ref#2 ECO.2.x): the INS and patient addresses (`ins`), IHE XDM
//! packaging of CDA documents (`xdm`) and the composition of outgoing messages with the
//! MSSanté headers (`headers`). Pure: no network, no store.

pub mod draft;
pub mod headers;
pub mod ins;
pub mod receipts;
pub mod xdm;

pub use headers::{compose, Attachment, ComposeError, Composed, Draft, PATIENT_SIZE_LIMIT};
pub use ins::{patient_ins_of, InsError, InsNumber};
