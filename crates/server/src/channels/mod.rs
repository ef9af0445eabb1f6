//! The written channels: a client writes (WhatsApp) and the receptionist
//! answers on the same dialogue and booking engine as the phone.

pub mod whatsapp;
