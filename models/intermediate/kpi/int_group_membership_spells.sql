-- Declared-group membership spells as days: a member from the day they joined up to,
-- not including, the day they left (open spells run to 9999-12-31).
with

memberships as (
    select * from {{ ref('stg_product__group_memberships') }}
),

final as (
    select
        group_id,
        user_id,
        joined_at,
        cast(joined_at as date) as joined_date,
        coalesce(cast(left_at as date), date '9999-12-31') as left_date
    from memberships
)

select * from final
