//! Building blocks shared by the screens.

pub mod boundary;
pub mod form;
pub mod load;
pub mod reauth;
pub mod shell;
pub mod widgets;
