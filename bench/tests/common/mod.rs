pub mod cedar;
