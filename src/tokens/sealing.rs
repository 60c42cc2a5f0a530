//! Placeholder until the master key lands: values pass through unchanged.

#[derive(Clone, Debug, Default)]
pub struct Sealer;

impl Sealer {
    pub fn plain() -> Sealer {
        Sealer
    }

    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        plain.to_vec()
    }

    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, String> {
        Ok(stored.to_vec())
    }
}
