# The import ID is the pool index.
terraform import cairn_pool.expansion 1
