//! Building blocks shared by the screens.

pub mod form;
pub mod shell;
pub mod widgets;
