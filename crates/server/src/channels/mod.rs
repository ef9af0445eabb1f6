//! The written channels: a client writes (WhatsApp, or SMS through the
//! telephony provider's messaging webhook) and the receptionist answers on
//! the same dialogue and booking engine as the phone.

pub mod whatsapp;
pub mod written;
