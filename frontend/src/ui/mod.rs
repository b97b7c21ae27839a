//! Building blocks shared by the screens.

pub mod authenticator;
pub mod boundary;
pub mod form;
pub mod idle;
pub mod load;
pub mod reauth;
pub mod shell;
pub mod widgets;
