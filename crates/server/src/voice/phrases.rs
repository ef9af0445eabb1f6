//! The fixed Italian phrases of a call. They are synthesised once and
//! cached (see [`crate::speech::speaker::Speaker::phrase`]).

/// Played when a reply takes longer than the filler delay.
pub const FILLER: &str = "Un attimo, controllo subito.";
/// When recognition fails or times out.
pub const REPEAT: &str = "Mi scusi, può ripetere?";
/// After caller silence.
pub const STILL_THERE: &str = "Sono ancora qui, mi sente?";
/// After repeated silence, before hanging up.
pub const GOODBYE_SILENCE: &str = "Non la sento più. La saluto, può richiamarci quando vuole. Arrivederci.";
/// At the maximum call duration.
pub const GOODBYE_TIME: &str = "Mi scusi, il tempo a disposizione per questa chiamata è terminato. Grazie e arrivederci.";
/// After repeated failed recognitions.
pub const GOODBYE_NOT_UNDERSTOOD: &str =
    "Mi scusi, la linea è disturbata e non riesco a capirla. La faremo richiamare al più presto. Arrivederci.";

/// Every fixed phrase, to pre-synthesise at start-up.
pub const ALL: &[&str] = &[FILLER, REPEAT, STILL_THERE, GOODBYE_SILENCE, GOODBYE_TIME, GOODBYE_NOT_UNDERSTOOD];
