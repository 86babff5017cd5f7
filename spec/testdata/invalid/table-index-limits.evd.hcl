app "bad" {}

locals {
  many = [for i in range(60) : "attr${i}"]
}

table "t" { # ERROR: Too many projected attributes
  hash_key = "id"
  index "i01" {
    hash_key   = "k"
    projection = local.many
  }
  index "i02" {
    hash_key   = "k"
    projection = local.many
  }
  index "i03" { hash_key = "k" }
  index "i04" { hash_key = "k" }
  index "i05" { hash_key = "k" }
  index "i06" { hash_key = "k" }
  index "i07" { hash_key = "k" }
  index "i08" { hash_key = "k" }
  index "i09" { hash_key = "k" }
  index "i10" { hash_key = "k" }
  index "i11" { hash_key = "k" }
  index "i12" { hash_key = "k" }
  index "i13" { hash_key = "k" }
  index "i14" { hash_key = "k" }
  index "i15" { hash_key = "k" }
  index "i16" { hash_key = "k" }
  index "i17" { hash_key = "k" }
  index "i18" { hash_key = "k" }
  index "i19" { hash_key = "k" }
  index "i20" { hash_key = "k" }
  index "i21" { hash_key = "k" } # ERROR: Too many indexes
}
