//! The scale-out backend: [`Storage`] over an `object_store` store (S3 or any
//! S3-compatible service). Compare-and-swap is a conditional write: `PutMode::Create`
//! (`If-None-Match: *`) when no object is expected, `PutMode::Update` (`If-Match` on the
//! entity tag) otherwise. A put is durable once the service acknowledges it.

use std::sync::Arc;

use object_store::aws::AmazonS3Builder;
use object_store::path::Path;
use object_store::{GetOptions, ObjectStore, PutMode, PutOptions, PutPayload, UpdateVersion};

use crate::storage::{BoxFuture, Storage, StorageError, Version, Versioned, check_key};

/// A log's objects in an object store.
#[derive(Debug, Clone)]
pub struct ObjectStorage {
    store: Arc<dyn ObjectStore>,
}

/// Where an S3-compatible bucket is and how to reach it.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The endpoint URL (e.g. `http://127.0.0.1:9000`); `None` for AWS itself.
    pub endpoint: Option<String>,
    /// The bucket.
    pub bucket: String,
    /// The region.
    pub region: String,
    /// The access key ID.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

fn backend(e: object_store::Error) -> StorageError {
    StorageError::Io(e.to_string())
}

fn path(key: &str) -> Result<Path, StorageError> {
    check_key(key)?;
    Path::parse(key).map_err(|e| StorageError::BadKey(format!("{key}: {e}")))
}

impl ObjectStorage {
    /// Storage over any object store.
    pub fn new(store: Arc<dyn ObjectStore>) -> Self {
        ObjectStorage { store }
    }

    /// Storage in an S3 bucket (plain HTTP allowed only for a loopback or explicit
    /// endpoint, as in tests).
    pub fn s3(config: &S3Config) -> Result<Self, StorageError> {
        let mut b = AmazonS3Builder::new()
            .with_bucket_name(&config.bucket)
            .with_region(&config.region)
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key);
        if let Some(endpoint) = &config.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        Ok(ObjectStorage::new(Arc::new(b.build().map_err(backend)?)))
    }

    async fn fetch(&self, key: &str) -> Result<Versioned, StorageError> {
        let p = path(key)?;
        match self.store.get_opts(&p, GetOptions::default()).await {
            Ok(r) => {
                let tag = r.meta.e_tag.clone();
                let bytes = r.bytes().await.map_err(backend)?;
                let version = tag.ok_or_else(|| {
                    StorageError::Io(format!("{key}: the store gave no entity tag"))
                })?;
                Ok(Some((bytes.to_vec(), Version(version))))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }
}

impl Storage for ObjectStorage {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StorageError>> {
        Box::pin(async move { Ok(self.fetch(key).await?.map(|(data, _)| data)) })
    }

    fn get_versioned<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Versioned, StorageError>> {
        Box::pin(self.fetch(key))
    }

    fn put<'a>(&'a self, key: &'a str, data: Vec<u8>) -> BoxFuture<'a, Result<(), StorageError>> {
        Box::pin(async move {
            let p = path(key)?;
            self.store
                .put_opts(&p, PutPayload::from(data), PutOptions::default())
                .await
                .map_err(backend)?;
            Ok(())
        })
    }

    fn put_if<'a>(
        &'a self,
        key: &'a str,
        data: Vec<u8>,
        expected: Option<&'a Version>,
    ) -> BoxFuture<'a, Result<Version, StorageError>> {
        Box::pin(async move {
            let p = path(key)?;
            let mode = match expected {
                None => PutMode::Create,
                Some(v) => PutMode::Update(UpdateVersion {
                    e_tag: Some(v.0.clone()),
                    version: None,
                }),
            };
            let opts = PutOptions {
                mode,
                ..PutOptions::default()
            };
            match self.store.put_opts(&p, PutPayload::from(data), opts).await {
                Ok(r) => r.e_tag.map(Version).ok_or_else(|| {
                    StorageError::Io(format!("{key}: the store gave no entity tag"))
                }),
                Err(
                    object_store::Error::AlreadyExists { .. }
                    | object_store::Error::Precondition { .. },
                ) => Err(StorageError::Conflict(key.to_string())),
                Err(e) => Err(backend(e)),
            }
        })
    }
}
